"""Declarative mapping from a source BVH skeleton to SMPL-22 joint positions.

A mapping is a YAML file (see ``skeletons/bandai.yaml``) with named fields: the unit scale to
metres, the source up axis, and for every SMPL joint one of

* ``{joint: NAME}``: the source joint's position;
* ``{between: [A, B], weight: w}``: the point ``(1 - w) A + w B`` (for joints the source lacks);
* ``{joint: NAME, local_offset: [x, y, z]}``: the joint plus an offset in that joint's frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import yaml

from motionlcm_node.data.bvh import BVHClip, forward_kinematics
from motionlcm_node.data.resample import resample_local_motion
from motionlcm_node.data.smpl import JOINT_NAMES
from motionlcm_node.errors import BVHError, MotionLCMError

#: Rotation that turns a Z-up source into the Y-up frame (x, y, z) -> (x, z, -y).
_Z_UP_TO_Y_UP = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])


@dataclass(frozen=True)
class JointSource:
    """Where one SMPL joint comes from in the source skeleton.

    Attributes:
        joint: source joint name (``between`` unset) or the first end point (``between`` set).
        between: second end point for an interpolated joint, else None.
        weight: interpolation weight towards ``between`` (0 = ``joint``).
        local_offset: offset in the source joint's frame, in source units.
    """

    joint: str
    between: str | None = None
    weight: float = 0.0
    local_offset: tuple[float, float, float] = (0.0, 0.0, 0.0)


@dataclass(frozen=True)
class SkeletonMap:
    """A validated source-to-SMPL-22 mapping.

    Attributes:
        name: dataset name.
        units_to_metres: factor from source units to metres.
        up_axis: ``"y"`` or ``"z"``.
        sources: one ``JointSource`` per SMPL joint, in SMPL order.
    """

    name: str
    units_to_metres: float
    up_axis: str
    sources: tuple[JointSource, ...]

    @classmethod
    def from_yaml(cls, path: str | Path) -> SkeletonMap:
        """Load and validate a mapping file; raises ``MotionLCMError`` naming the file and field."""
        path = Path(path)
        try:
            raw = yaml.safe_load(path.read_text())
        except (OSError, yaml.YAMLError) as error:
            raise MotionLCMError(f"{path}: cannot read skeleton mapping ({error})") from None
        return cls.from_dict(raw, str(path))

    @classmethod
    def builtin(cls, name: str) -> SkeletonMap:
        """Load a mapping shipped with the package (e.g. ``"bandai"``)."""
        package_files = resources.files("motionlcm_node.data") / "skeletons" / f"{name}.yaml"
        if not package_files.is_file():
            raise MotionLCMError(f"no built-in skeleton mapping {name!r}")
        return cls.from_dict(yaml.safe_load(package_files.read_text()), f"built-in {name}.yaml")

    @classmethod
    def from_dict(cls, raw: object, origin: str) -> SkeletonMap:
        """Validate a parsed mapping; ``origin`` names it in error messages."""
        if not isinstance(raw, dict):
            raise MotionLCMError(f"{origin}: expected a mapping at the top level")
        unknown = set(raw) - {"name", "units_to_metres", "up_axis", "joints"}
        if unknown:
            raise MotionLCMError(f"{origin}: unknown fields {sorted(unknown)}")
        joints = raw.get("joints")
        if not isinstance(joints, dict):
            raise MotionLCMError(f"{origin}: 'joints' must map SMPL joint names to sources")
        missing = [name for name in JOINT_NAMES if name not in joints]
        extra = [name for name in joints if name not in JOINT_NAMES]
        if missing or extra:
            raise MotionLCMError(f"{origin}: SMPL joints missing {missing}, unknown {extra}")
        up_axis = str(raw.get("up_axis", "y")).lower()
        if up_axis not in ("y", "z"):
            raise MotionLCMError(f"{origin}: up_axis must be 'y' or 'z', got {up_axis!r}")
        scale = float(raw.get("units_to_metres", 1.0))
        if not scale > 0:
            raise MotionLCMError(f"{origin}: units_to_metres must be positive")
        sources = tuple(_joint_source(joints[name], name, origin) for name in JOINT_NAMES)
        return cls(str(raw.get("name", origin)), scale, up_axis, sources)

    def check_skeleton(self, names: tuple[str, ...], source: str) -> None:
        """Raise ``BVHError`` if a source joint named by the mapping is absent from ``names``."""
        needed = {s.joint for s in self.sources} | {s.between for s in self.sources if s.between}
        absent = sorted(needed - set(names))
        if absent:
            raise BVHError(f"{source}: joints {absent} required by mapping '{self.name}' are missing")

    def joints_from_clip(self, clip: BVHClip, fps: float = 20.0) -> np.ndarray:
        """SMPL-22 joint positions of a clip, resampled, in metres with Y up.

        Args:
            clip: a parsed BVH clip whose skeleton matches this mapping.
            fps: output frame rate (HumanML3D uses 20).

        Returns:
            [T', 22, 3] float64 positions in metres, world frame, Y up.
        """
        skeleton = clip.skeleton
        self.check_skeleton(skeleton.names, clip.source)
        rotations, translations = resample_local_motion(clip.local_rotations, clip.local_translations, clip.fps, fps)
        positions, matrices = forward_kinematics(skeleton, rotations, translations)
        out = np.empty((positions.shape[0], len(self.sources), 3))
        for k, src in enumerate(self.sources):
            first = skeleton.index(src.joint)
            point = positions[:, first]
            if src.between is not None:
                point = (1.0 - src.weight) * point + src.weight * positions[:, skeleton.index(src.between)]
            if any(src.local_offset):
                point = point + matrices[:, first] @ np.asarray(src.local_offset)
            out[:, k] = point
        out *= self.units_to_metres
        if self.up_axis == "z":
            out = out @ _Z_UP_TO_Y_UP.T
        return out


def _joint_source(raw: object, smpl_name: str, origin: str) -> JointSource:
    where = f"{origin}: joints.{smpl_name}"
    if not isinstance(raw, dict):
        raise MotionLCMError(f"{where}: expected a mapping such as {{joint: Hips}}")
    unknown = set(raw) - {"joint", "between", "weight", "local_offset"}
    if unknown:
        raise MotionLCMError(f"{where}: unknown fields {sorted(unknown)}")
    if "between" in raw:
        pair = raw["between"]
        if "joint" in raw or not (isinstance(pair, list) and len(pair) == 2):
            raise MotionLCMError(f"{where}: 'between' takes exactly two joint names and excludes 'joint'")
        weight = float(raw.get("weight", 0.5))
        if not 0.0 <= weight <= 1.0:
            raise MotionLCMError(f"{where}: weight must lie in [0, 1]")
        return JointSource(str(pair[0]), str(pair[1]), weight, _offset(raw, where))
    if "joint" not in raw:
        raise MotionLCMError(f"{where}: needs 'joint' or 'between'")
    return JointSource(str(raw["joint"]), local_offset=_offset(raw, where))


def _offset(raw: dict, where: str) -> tuple[float, float, float]:
    value = raw.get("local_offset", (0.0, 0.0, 0.0))
    if not (isinstance(value, list | tuple) and len(value) == 3):
        raise MotionLCMError(f"{where}: local_offset must be three numbers")
    return (float(value[0]), float(value[1]), float(value[2]))
