"""Exception hierarchy: every error this package raises on bad input derives from ``MotionLCMError``."""


class MotionLCMError(Exception):
    """Base class for errors caused by bad input or configuration (shown to users without a traceback)."""


class BVHError(MotionLCMError):
    """A BVH file is truncated, garbled, or does not match the expected skeleton."""


class MotionDataError(MotionLCMError):
    """A motion clip is unusable: too short, non-finite values, or a wrong shape."""
