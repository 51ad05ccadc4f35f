"""Exceptions raised by the retargeting package.

Every error caused by bad input (a malformed robot YAML file, a URDF that does not match it, an unusable
human motion array) derives from :class:`RetargetingError`, so that callers such as the ``motionlcm``
command line can report it without a traceback.
"""


class RetargetingError(Exception):
    """Base class of every error raised by the retargeting package on bad input or configuration."""


class RobotConfigError(RetargetingError):
    """A robot YAML file is malformed, or names a frame or joint that its URDF does not have."""


class MotionInputError(RetargetingError):
    """A human motion array has the wrong shape or contains no usable frame."""


class RenderError(RetargetingError):
    """A video could not be rendered or written (bad output path, unsupported extension)."""
