"""motionlcm_node: real-time text- and waypoint-driven humanoid motion for ROS 2.

Data flows ``text`` (sentence encoders) -> ``sampling`` (the pipelines, over the ``runtime`` backends
of the ``networks`` that ``loading`` reads from ``models/``) -> ``postprocess`` -> joints, then the
``retargeting`` package turns joints into robot trajectories. ``training``, ``evaluation`` and
``export`` make and measure the shipped models; ``cli`` is the ``motionlcm`` command. Only
``motionlcm_node.node`` imports ``rclpy.node``.

The two pipelines are importable from here (lazily, so ``import motionlcm_node`` stays cheap)::

    from motionlcm_node import MotionLCMPipeline

    pipeline = MotionLCMPipeline.from_models()  # the shipped student, on ONNX Runtime
    output = pipeline(["a person waves with the right hand"], seconds=[6.0], generator=0)
    output.joints  # [1, 120, 22, 3] metres, Y up, 20 fps
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"
__all__ = ["LatentDiffusionPipeline", "MotionLCMPipeline", "MotionOutput", "__version__"]

_LAZY = {
    "MotionLCMPipeline": "motionlcm_node.sampling.lcm_pipeline",
    "LatentDiffusionPipeline": "motionlcm_node.sampling.pipeline",
    "MotionOutput": "motionlcm_node.sampling.output",
}


def __getattr__(name: str) -> Any:
    """Import the public classes on first use."""
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
