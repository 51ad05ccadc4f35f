"""The node's parameters: name, default, description, allowed values, and whether they change at run time.

Every parameter is declared with a ``ParameterDescriptor`` (description, range, read-only flag), so
``ros2 param describe`` explains it and ROS rejects out-of-range values; :func:`check` adds the checks
ROS cannot express (choices, paths) and is run on every set request, before a value is taken.
Read-only parameters (models, robot, backends) are set at start-up, from a launch file or
``--ros-args -p``; the others may change while the node runs.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor

BACKENDS = ("auto", "onnx", "torch")
TEXT_BACKENDS = ("auto", "static", "onnx", "torch")


@dataclass(frozen=True)
class ParameterSpec:
    """One parameter: default value, description, and what values it accepts."""

    name: str
    default: object
    description: str
    read_only: bool = False
    choices: tuple[str, ...] = ()
    low: float | None = None
    high: float | None = None

    def descriptor(self) -> ParameterDescriptor:
        """The ROS descriptor (with the range for numbers and the choices in the description)."""
        text = self.description + (f" One of: {', '.join(self.choices)}." if self.choices else "")
        descriptor = ParameterDescriptor(description=text, read_only=self.read_only)
        if isinstance(self.default, bool):
            return descriptor
        if isinstance(self.default, int) and self.low is not None:
            descriptor.integer_range = [IntegerRange(from_value=int(self.low), to_value=int(self.high), step=1)]
        elif isinstance(self.default, float) and self.low is not None:
            descriptor.floating_point_range = [FloatingPointRange(from_value=self.low, to_value=self.high, step=0.0)]
        return descriptor


SPECS = (
    ParameterSpec("models_dir", "", "Folder in the models/ layout; empty for the shipped models.", read_only=True),
    ParameterSpec("robot", "g1", "Built-in robot (g1, talos) or the path of a robot YAML.", read_only=True),
    ParameterSpec("device", "cpu", "Where the networks run.", read_only=True, choices=("cpu", "cuda", "auto")),
    ParameterSpec(
        "denoiser_backend",
        "auto",
        "Runtime of the student network (auto: ONNX Runtime when exported).",
        read_only=True,
        choices=BACKENDS,
    ),
    ParameterSpec(
        "decoder_backend",
        "auto",
        "Runtime of the VAE decoder (auto: ONNX Runtime when exported).",
        read_only=True,
        choices=BACKENDS,
    ),
    ParameterSpec(
        "text_backend",
        "auto",
        "Sentence encoder (auto: the student's static encoder).",
        read_only=True,
        choices=TEXT_BACKENDS,
    ),
    ParameterSpec("threads", 2, "CPU threads of each ONNX Runtime stage.", read_only=True, low=1, high=64),
    ParameterSpec(
        "controller_rate", 50.0, "Rate of the published trajectory points, Hz.", read_only=True, low=10.0, high=1000.0
    ),
    ParameterSpec("steps", 1, "Consistency steps of the student (1, 2 or 4).", low=1, high=4),
    ParameterSpec(
        "guidance", -1.0, "Guidance scale given to the student; negative: its step table's.", low=-1.0, high=30.0
    ),
    ParameterSpec(
        "seed",
        0,
        "Seed of the noise of the first command (each command draws the next); -1: random.",
        low=-1,
        high=2**31 - 1,
    ),
    ParameterSpec("stabilize_feet", True, "Move the root so that feet the model labels planted do not slide."),
    ParameterSpec(
        "default_duration", 5.0, "Length of a command that names none (std_msgs/String), s.", low=0.5, high=9.8
    ),
    ParameterSpec("blend_seconds", 0.5, "Transition from the running motion into a new one, s.", low=0.05, high=3.0),
    ParameterSpec("lookahead", 1.0, "How far ahead of now each published trajectory reaches, s.", low=0.1, high=5.0),
    ParameterSpec(
        "publish_period", 0.1, "Period of the trajectory, skeleton and state publications, s.", low=0.01, high=1.0
    ),
    ParameterSpec(
        "switch_delay",
        0.05,
        "How long after a command arrives its motion takes over, s (covers "
        "generation and transport; the first message reaches the controller before it).",
        low=0.0,
        high=1.0,
    ),
    ParameterSpec(
        "latency_budget",
        0.05,
        "Command-to-first-trajectory time above which the status warns, s.",
        low=0.001,
        high=10.0,
    ),
    ParameterSpec("max_text_length", 300, "Longest command text accepted, characters.", low=1, high=10000),
    ParameterSpec(
        "max_schedule_ahead", 60.0, "Furthest future stamp a command or waypoints may carry, s.", low=0.0, high=3600.0
    ),
    ParameterSpec(
        "max_stamp_age", 5.0, "Oldest stamp still taken as 'now' (older: a clock mismatch), s.", low=0.0, high=3600.0
    ),
    ParameterSpec(
        "idle_behavior",
        "hold",
        "After the last motion: hold the last pose or stand in the reference posture.",
        choices=("hold", "stand"),
    ),
    ParameterSpec("hand", "right", "Which hand ~/hand_target moves.", choices=("right", "left")),
    ParameterSpec(
        "hand_target_time", 1.5, "When a ~/hand_target point should be reached, s after the command.", low=0.1, high=9.8
    ),
    ParameterSpec("world_frame", "world", "Frame of the generated motion and of the skeleton markers."),
    ParameterSpec(
        "publish_joint_states",
        False,
        "Also publish the commanded joint positions on "
        "~/commanded_joint_states (to drive robot_state_publisher without a controller).",
    ),
    ParameterSpec(
        "record_path",
        "",
        "Write commands, waypoints, trajectories and joint states to this MCAP "
        "file (a folder gets a timestamped name); empty: no recording.",
        read_only=True,
    ),
    ParameterSpec(
        "autostart", True, "Configure and activate at start-up (as nav2's lifecycle manager would).", read_only=True
    ),
)
SPEC_BY_NAME = {spec.name: spec for spec in SPECS}


def check(name: str, value: object) -> str | None:
    """Why ``value`` is not acceptable for parameter ``name`` (None when it is)."""
    spec = SPEC_BY_NAME.get(name)
    if spec is None:
        return None  # parameters the node does not own (use_sim_time, ...)
    if type(value) is not type(spec.default):
        return f"{name} must be a {type(spec.default).__name__}, got {type(value).__name__}"
    if isinstance(value, float) and not math.isfinite(value):
        return f"{name} must be finite, got {value}"
    if spec.low is not None and not spec.low <= value <= spec.high:  # type: ignore[operator]
        return f"{name} must be within {spec.low:g}-{spec.high:g}, got {value}"
    if spec.choices and value not in spec.choices:
        return f"{name} must be one of {', '.join(spec.choices)}, got {value!r}"
    if name == "steps" and value not in (1, 2, 4):
        return f"steps must be 1, 2 or 4, got {value}"
    if name == "models_dir" and value and not (Path(str(value)) / "student" / "config.json").is_file():
        return f"models_dir {value!r} holds no student/config.json"
    if name == "world_frame" and (not value or any(character.isspace() for character in str(value))):
        return f"world_frame must be a frame name without spaces, got {value!r}"
    return None


def planner_from(value: Callable[[str], object]) -> object:
    """The node's ``CommandPlanner``: models, robot, backends, device and settings from its parameters.

    Args:
        value: parameter name -> current value.
    """
    from motionlcm_node.commands.planner import CommandPlanner, PlannerSettings
    from motionlcm_node.runtime.onnx_session import onnx_runs_on

    device = str(value("device"))
    if device == "auto":
        device = "cuda" if onnx_runs_on("cuda") else "cpu"

    guidance, seed = float(value("guidance")), int(value("seed"))
    settings = PlannerSettings(
        rate=float(value("controller_rate")),
        steps=int(value("steps")),
        guidance=None if guidance < 0 else guidance,
        stabilize_feet=bool(value("stabilize_feet")),
        seed=None if seed < 0 else seed,
    )
    models = str(value("models_dir"))
    backends = tuple(str(value(name)) for name in ("text_backend", "denoiser_backend", "decoder_backend"))
    return CommandPlanner.from_models(
        Path(models) if models else None, str(value("robot")), settings, device, backends, int(value("threads"))
    )


def apply(values: dict[str, object], planner: object, session: object) -> None:
    """Hand the run-time parameters among ``values`` (already checked) to the planner and the session.

    Args:
        values: parameter name -> new value.
        planner: the node's ``CommandPlanner`` (steps, guidance, stabilize_feet).
        session: the node's ``CommandSession`` (switch_delay, idle_behavior, lookahead).
    """
    settings = planner.settings
    if {"steps", "guidance", "stabilize_feet"} & values.keys():
        guidance = float(values.get("guidance", -1.0 if settings.guidance is None else settings.guidance))
        planner.settings = replace(
            settings,
            steps=int(values.get("steps", settings.steps)),
            guidance=None if guidance < 0 else guidance,
            stabilize_feet=bool(values.get("stabilize_feet", settings.stabilize_feet)),
        )
    if "switch_delay" in values:
        session.switch_delay = float(values["switch_delay"])
    if "idle_behavior" in values:
        session.idle = str(values["idle_behavior"])
    if "lookahead" in values:
        session.first_seconds = float(values["lookahead"]) + 0.5
