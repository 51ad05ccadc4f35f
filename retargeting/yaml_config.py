"""Strict YAML reading of robot configurations (:class:`~retargeting.config.RobotConfig`).

Unknown keys, missing keys, wrong types, unknown SMPL joints, duplicated keypoints and impossible
attachments are rejected with a :class:`~retargeting.errors.RobotConfigError` that names the file and
the offending field.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from retargeting.config import (
    BUILTIN_ROBOTS_DIR,
    LEG_JOINTS,
    FootConfig,
    KeypointTask,
    LimitSettings,
    RobotConfig,
    ScalingSettings,
    SolverSettings,
    Vector3,
    builtin_robot_names,
    keypoint_parent,
    resolve_urdf_path,
)
from retargeting.errors import RobotConfigError
from retargeting.human import ORIENTATION_SOURCES, SMPL_INDEX


class _Section:
    """Strict reader of one YAML mapping: every key must be known, types are checked on access."""

    def __init__(self, data: object, where: str, allowed: tuple[str, ...]) -> None:
        if not isinstance(data, Mapping):
            raise RobotConfigError(f"{where}: expected a mapping, got {type(data).__name__}")
        unknown = sorted(set(map(str, data)) - set(allowed))
        if unknown:
            raise RobotConfigError(f"{where}: unknown key(s) {unknown}; allowed keys: {list(allowed)}")
        self.data, self.where = data, where

    def has(self, key: str) -> bool:
        return key in self.data and self.data[key] is not None

    def raw(self, key: str) -> object:
        if key not in self.data:
            raise RobotConfigError(f"{self.where}: missing required key '{key}'")
        return self.data[key]

    def text(self, key: str) -> str:
        value = self.raw(key)
        if not isinstance(value, str) or not value:
            raise RobotConfigError(f"{self.where}.{key}: expected a non-empty string, got {value!r}")
        return value

    def number(self, key: str, default: float, minimum: float = -math.inf, strict: bool = False) -> float:
        value = _finite_number(self.data.get(key, default), f"{self.where}.{key}")
        if value < minimum or (strict and value == minimum):
            bound = ">" if strict else ">="
            raise RobotConfigError(f"{self.where}.{key}: must be {bound} {minimum}, got {value}")
        return value

    def vector3(self, key: str, default: Vector3) -> Vector3:
        value = self.data.get(key, default)
        return _vector3(value, f"{self.where}.{key}")


def _finite_number(value: object, where: str) -> float:
    """Check that ``value`` is a finite int or float (not a bool) and return it as a float."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise RobotConfigError(f"{where}: expected a finite number, got {value!r}")
    return float(value)


def _vector3(value: object, where: str) -> Vector3:
    """Check that ``value`` is a list of three finite numbers."""
    if not isinstance(value, list | tuple) or len(value) != 3:
        raise RobotConfigError(f"{where}: expected a list of 3 numbers, got {value!r}")
    x, y, z = (_finite_number(v, f"{where}[{i}]") for i, v in enumerate(value))
    return (x, y, z)


def _parse_keypoint(data: object, where: str) -> KeypointTask:
    fields = (
        "name",
        "smpl_joint",
        "frame",
        "position_weight",
        "orientation_weight",
        "position_offset",
        "orientation_offset_deg",
        "attach",
    )
    section = _Section(data, where, fields)
    smpl_joint = section.text("smpl_joint")
    if smpl_joint not in SMPL_INDEX:
        raise RobotConfigError(f"{where}.smpl_joint: unknown SMPL joint '{smpl_joint}'; known: {list(SMPL_INDEX)}")
    attach = section.data.get("attach", "limb")
    if attach not in ("limb", "rigid"):
        raise RobotConfigError(f"{where}.attach: expected 'limb' or 'rigid', got {attach!r}")
    task = KeypointTask(
        name=section.text("name") if section.has("name") else smpl_joint,
        smpl_joint=smpl_joint,
        frame=section.text("frame"),
        position_weight=section.number("position_weight", 1.0, minimum=0.0),
        orientation_weight=section.number("orientation_weight", 0.0, minimum=0.0),
        position_offset=section.vector3("position_offset", (0.0, 0.0, 0.0)),
        orientation_offset_deg=section.vector3("orientation_offset_deg", (0.0, 0.0, 0.0)),
        attach=attach,
    )
    if task.orientation_weight > 0 and smpl_joint not in ORIENTATION_SOURCES:
        raise RobotConfigError(
            f"{where}: SMPL joint '{smpl_joint}' has no derivable orientation, so orientation_weight must be 0 "
            f"(joints with one: {sorted(ORIENTATION_SOURCES)})"
        )
    return task


def _parse_foot(data: object, where: str) -> FootConfig:
    section = _Section(data, where, ("frame", "sole_points"))
    points = section.raw("sole_points")
    if not isinstance(points, list) or not points:
        raise RobotConfigError(f"{where}.sole_points: expected a non-empty list of [x, y, z] points")
    return FootConfig(
        frame=section.text("frame"),
        sole_points=tuple(_vector3(point, f"{where}.sole_points[{i}]") for i, point in enumerate(points)),
    )


def robot_config_from_dict(data: object, source: str, base_dir: Path) -> RobotConfig:
    """Build and validate a :class:`RobotConfig` from parsed YAML.

    Args:
        data: The parsed YAML document.
        source: Name of the file (for error messages).
        base_dir: Directory relative URDF paths are resolved against.

    Raises:
        RobotConfigError: Unknown or missing keys, wrong types, unknown SMPL joints, duplicated keypoints,
            no pelvis keypoint, or a missing URDF file.
    """
    top = _Section(
        data, source, ("name", "urdf", "keypoints", "feet", "reference_posture", "scaling", "solver", "limits")
    )
    raw_keypoints = top.raw("keypoints")
    if not isinstance(raw_keypoints, list) or not raw_keypoints:
        raise RobotConfigError(f"{source}.keypoints: expected a non-empty list")
    keypoints = tuple(_parse_keypoint(item, f"{source}.keypoints[{i}]") for i, item in enumerate(raw_keypoints))
    for attribute in ("name", "smpl_joint"):
        values = [getattr(task, attribute) for task in keypoints]
        duplicates = sorted({value for value in values if values.count(value) > 1})
        if duplicates:
            raise RobotConfigError(f"{source}.keypoints: duplicated {attribute} {duplicates}")
    if "pelvis" not in {task.smpl_joint for task in keypoints}:
        raise RobotConfigError(f"{source}.keypoints: missing the required keypoint for SMPL joint 'pelvis'")
    for task in keypoints:
        parent = keypoint_parent(task.smpl_joint, keypoints)
        if task.attach == "rigid" and (parent is None or parent.smpl_joint not in ORIENTATION_SOURCES):
            raise RobotConfigError(
                f"{source}.keypoints: '{task.name}' uses attach: rigid, which needs a parent keypoint with a derived "
                f"orientation (one of {sorted(ORIENTATION_SOURCES)}); its parent is {parent.name if parent else None}"
            )
    feet_section = _Section(top.raw("feet"), f"{source}.feet", ("left", "right"))
    feet = {side: _parse_foot(feet_section.raw(side), f"{source}.feet.{side}") for side in ("left", "right")}
    posture_data = top.data.get("reference_posture") or {}
    if not isinstance(posture_data, Mapping):
        raise RobotConfigError(f"{source}.reference_posture: expected a mapping of joint name to position")
    posture = {str(k): _finite_number(v, f"{source}.reference_posture.{k}") for k, v in posture_data.items()}
    scaling = _Section(top.data.get("scaling") or {}, f"{source}.scaling", ("method", "root_scale"))
    method = scaling.data.get("method", "limb_lengths")
    if method not in ("limb_lengths", "uniform"):
        raise RobotConfigError(f"{source}.scaling.method: expected 'limb_lengths' or 'uniform', got {method!r}")
    root_scale = scaling.number("root_scale", 1.0, minimum=0.0, strict=True) if scaling.has("root_scale") else None
    missing_legs = sorted(set(LEG_JOINTS) - {task.smpl_joint for task in keypoints})
    if root_scale is None and missing_legs:
        raise RobotConfigError(
            f"{source}.scaling.root_scale: null (leg-length ratio) needs keypoints for SMPL joints {missing_legs}; "
            "map them or give a numeric root_scale"
        )
    solver = _Section(top.data.get("solver") or {}, f"{source}.solver", tuple(SolverSettings.__dataclass_fields__))
    limits = _Section(top.data.get("limits") or {}, f"{source}.limits", tuple(LimitSettings.__dataclass_fields__))
    defaults_solver, defaults_limits = SolverSettings(), LimitSettings()
    velocity_scale = limits.number("velocity_scale", defaults_limits.velocity_scale, minimum=0.0, strict=True)
    if velocity_scale > 1.0:
        raise RobotConfigError(f"{source}.limits.velocity_scale: must be <= 1 (a fraction of the URDF limits)")
    return RobotConfig(
        name=top.text("name"),
        urdf=resolve_urdf_path(top.text("urdf"), base_dir),
        keypoints=keypoints,
        feet=feet,
        reference_posture=posture,
        scaling=ScalingSettings(method=method, root_scale=root_scale),
        solver=SolverSettings(
            iterations=int(solver.number("iterations", defaults_solver.iterations, minimum=1)),
            initial_iterations=int(solver.number("initial_iterations", defaults_solver.initial_iterations, minimum=1)),
            damping=solver.number("damping", defaults_solver.damping, minimum=0.0, strict=True),
            velocity_weight=solver.number("velocity_weight", defaults_solver.velocity_weight, minimum=0.0),
            acceleration_weight=solver.number("acceleration_weight", defaults_solver.acceleration_weight, minimum=0.0),
            posture_weight=solver.number("posture_weight", defaults_solver.posture_weight, minimum=0.0),
            step_tolerance=solver.number("step_tolerance", defaults_solver.step_tolerance, minimum=0.0),
        ),
        limits=LimitSettings(
            velocity_scale=velocity_scale,
            default_joint_velocity=limits.number(
                "default_joint_velocity", defaults_limits.default_joint_velocity, minimum=0.0, strict=True
            ),
            base_linear_speed=limits.number(
                "base_linear_speed", defaults_limits.base_linear_speed, minimum=0.0, strict=True
            ),
            base_angular_speed=limits.number(
                "base_angular_speed", defaults_limits.base_angular_speed, minimum=0.0, strict=True
            ),
        ),
        source=source,
    )


def load_robot_config(name_or_path: str | Path) -> RobotConfig:
    """Load a robot configuration by built-in name (``g1``, ``talos``) or from a YAML file path.

    Raises:
        RobotConfigError: Unknown robot name, unreadable file, invalid YAML or invalid content.
    """
    text = str(name_or_path)
    path = BUILTIN_ROBOTS_DIR / f"{text}.yaml" if text in builtin_robot_names() else Path(text).expanduser()
    if not path.is_file():
        raise RobotConfigError(
            f"unknown robot '{text}': not a built-in robot {list(builtin_robot_names())} nor a YAML file"
        )
    try:
        data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise RobotConfigError(f"cannot read robot YAML {path}: {error}") from error
    return robot_config_from_dict(data, str(path), path.parent)
