"""BVH reading and vectorised forward kinematics.

Why our own parser: the maintained libraries were measured on a 466-frame Bandai-Namco clip on the
2-core development machine (see docs/data.md): ``bvhio`` 1.5.4 took 0.35 s to parse and 0.22 ms per
frame for per-frame Python forward kinematics (~7 minutes of one core for the full 416k-frame corpus),
and ``pybvh`` 0.9.0 refuses files with position channels on non-root joints, which every Bandai joint
has. This module parses the motion block with one numpy call and runs forward kinematics over all
frames at once, joint by joint (``benchmarks/data_prepare.py`` reports the resulting throughput).

Conventions: rotation channels are Euler angles in degrees applied in the order they are listed
(``Zrotation Xrotation Yrotation`` gives ``R = Rz @ Rx @ Ry``, intrinsic). A joint with position
channels uses them as its local translation (they replace the OFFSET, as Bandai-Namco and most
mocap exporters do); a joint without uses its OFFSET. Units are whatever the file uses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

from motionlcm_node.errors import BVHError

_AXES = ("X", "Y", "Z")
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"


@dataclass(frozen=True)
class BVHSkeleton:
    """Joint hierarchy of a BVH file (end sites are dropped: they carry no channels).

    Attributes:
        names: joint names in file order (parents always precede children).
        parents: index of each joint's parent, -1 for the root.
        offsets: [J, 3] rest offsets from the parent joint, in file units, parent frame.
        channels: per joint, the channel names in file order (e.g. ``("Xposition", ..., "Yrotation")``).
    """

    names: tuple[str, ...]
    parents: tuple[int, ...]
    offsets: np.ndarray
    channels: tuple[tuple[str, ...], ...]

    def index(self, name: str) -> int:
        """Index of a joint by name; raises ``KeyError`` naming the known joints."""
        try:
            return self.names.index(name)
        except ValueError:
            raise KeyError(f"joint {name!r} not in skeleton (joints: {', '.join(self.names)})") from None


@dataclass(frozen=True)
class BVHClip:
    """A parsed BVH file: skeleton, per-frame local transforms, and timing.

    Attributes:
        skeleton: the joint hierarchy.
        local_rotations: [T, J, 4] local joint rotations as scalar-last unit quaternions (x, y, z, w).
        local_translations: [T, J, 3] local translations in file units, parent frame.
        frame_time: seconds per frame.
        source: file the clip came from (for error messages).
    """

    skeleton: BVHSkeleton
    local_rotations: np.ndarray
    local_translations: np.ndarray
    frame_time: float
    source: str = "<memory>"

    @property
    def num_frames(self) -> int:
        """Number of frames T."""
        return int(self.local_rotations.shape[0])

    @property
    def fps(self) -> float:
        """Frames per second."""
        return 1.0 / self.frame_time


def _parse_hierarchy(tokens: list[str], source: str) -> BVHSkeleton:
    names: list[str] = []
    parents: list[int] = []
    offsets: list[list[float]] = []
    channels: list[tuple[str, ...]] = []
    stack: list[int] = []  # joint index per open brace; -2 marks an End Site block
    pending_parent = -1
    i = 0
    try:
        if tokens[0] != "HIERARCHY":
            raise BVHError(f"{source}: does not start with HIERARCHY")
        i = 1
        while i < len(tokens):
            token = tokens[i]
            if token in ("ROOT", "JOINT"):
                if token == "ROOT" and names:
                    raise BVHError(f"{source}: more than one ROOT")
                names.append(tokens[i + 1])
                parents.append(pending_parent)
                offsets.append([0.0, 0.0, 0.0])
                channels.append(())
                i += 2
            elif token == "End":
                if tokens[i + 1] != "Site":
                    raise BVHError(f"{source}: expected 'End Site', found 'End {tokens[i + 1]}'")
                names.append("")  # end-site entry keeps the brace logic uniform; dropped below
                parents.append(pending_parent)
                offsets.append([0.0, 0.0, 0.0])
                channels.append(("END",))
                i += 2
            elif token == "{":
                stack.append(len(names) - 1)
                pending_parent = len(names) - 1
                i += 1
            elif token == "}":
                stack.pop()
                pending_parent = stack[-1] if stack else -1
                i += 1
                if not stack:
                    break
            elif token == "OFFSET":
                offsets[-1] = [float(tokens[i + 1]), float(tokens[i + 2]), float(tokens[i + 3])]
                i += 4
            elif token == "CHANNELS":
                count = int(tokens[i + 1])
                chans = tuple(tokens[i + 2 : i + 2 + count])
                for chan in chans:
                    if len(chan) != 9 or chan[0] not in _AXES or chan[1:] not in ("position", "rotation"):
                        raise BVHError(f"{source}: unknown channel {chan!r} in joint {names[-1]!r}")
                channels[-1] = chans
                i += 2 + count
            else:
                raise BVHError(f"{source}: unexpected token {token!r} in HIERARCHY")
    except (IndexError, ValueError) as error:
        raise BVHError(f"{source}: truncated or garbled HIERARCHY ({error})") from None
    if stack or not names:
        raise BVHError(f"{source}: HIERARCHY is truncated (unbalanced braces)")

    keep = [k for k, chans in enumerate(channels) if chans != ("END",)]
    remap = {old: new for new, old in enumerate(keep)}
    return BVHSkeleton(
        names=tuple(names[k] for k in keep),
        parents=tuple(remap[parents[k]] if parents[k] >= 0 else -1 for k in keep),
        offsets=np.asarray([offsets[k] for k in keep], dtype=np.float64),
        channels=tuple(channels[k] for k in keep),
    )


def parse_bvh(text: str, source: str = "<memory>") -> BVHClip:
    """Parse BVH text into a clip.

    Args:
        text: the whole file content.
        source: a name used in error messages (usually the path).

    Returns:
        The parsed clip with local rotations as quaternions and local translations in file units.

    Raises:
        BVHError: the text is truncated, garbled, or has non-finite values.
    """
    head, sep, motion = text.partition("MOTION")
    if not sep:
        raise BVHError(f"{source}: no MOTION section (file truncated?)")
    skeleton = _parse_hierarchy(head.split(), source)
    frames_match = re.search(r"Frames:\s*(\d+)", motion)
    time_match = re.search(rf"Frame Time:\s*({_NUMBER})", motion)
    if frames_match is None or time_match is None:
        raise BVHError(f"{source}: MOTION section lacks 'Frames:' or 'Frame Time:'")
    num_frames = int(frames_match.group(1))
    frame_time = float(time_match.group(1))
    if not frame_time > 0:
        raise BVHError(f"{source}: Frame Time must be positive, got {frame_time}")
    body = motion[time_match.end() :]
    num_channels = sum(len(c) for c in skeleton.channels)
    try:
        values = np.array(body.split(), dtype=np.float64)
    except ValueError as error:
        raise BVHError(f"{source}: non-numeric value in MOTION data ({error})") from None
    if values.size != num_frames * num_channels:
        raise BVHError(
            f"{source}: expected {num_frames} frames x {num_channels} channels = "
            f"{num_frames * num_channels} values, found {values.size} (file truncated?)"
        )
    if num_frames < 1:
        raise BVHError(f"{source}: no frames")
    if not np.all(np.isfinite(values)):
        raise BVHError(f"{source}: MOTION data contains NaN or infinite values")
    return _clip_from_channels(skeleton, values.reshape(num_frames, num_channels), frame_time, source)


def _clip_from_channels(skeleton: BVHSkeleton, data: np.ndarray, frame_time: float, source: str) -> BVHClip:
    num_frames, num_joints = data.shape[0], len(skeleton.names)
    rotations = np.zeros((num_frames, num_joints, 4))
    rotations[..., 3] = 1.0
    translations = np.broadcast_to(skeleton.offsets, (num_frames, num_joints, 3)).copy()
    column = 0
    for joint, chans in enumerate(skeleton.channels):
        rot_axes = "".join(c[0] for c in chans if c.endswith("rotation"))
        rot_cols = [column + k for k, c in enumerate(chans) if c.endswith("rotation")]
        for k, chan in enumerate(chans):
            if chan.endswith("position"):
                translations[:, joint, _AXES.index(chan[0])] = data[:, column + k]
        if rot_axes:
            # Upper-case axes = intrinsic rotations composed in listed order (R = R_1 @ R_2 @ R_3).
            rotations[:, joint] = Rotation.from_euler(rot_axes.upper(), data[:, rot_cols], degrees=True).as_quat()
        column += len(chans)
    return BVHClip(skeleton, rotations, translations, frame_time, source)


def read_bvh(path: str | Path) -> BVHClip:
    """Read and parse a BVH file.

    Raises:
        BVHError: the file cannot be read or parsed; the message names the file.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8", errors="strict")
    except (OSError, UnicodeDecodeError) as error:
        raise BVHError(f"{path}: cannot read ({error})") from None
    return parse_bvh(text, source=str(path))


def forward_kinematics(
    skeleton: BVHSkeleton, local_rotations: np.ndarray, local_translations: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Global joint positions and rotation matrices for every frame at once.

    Args:
        skeleton: the hierarchy (parents precede children).
        local_rotations: [T, J, 4] scalar-last quaternions, joint frame relative to parent frame.
        local_translations: [T, J, 3] joint origin in the parent frame (root: in the world frame).

    Returns:
        positions [T, J, 3] in the world frame (file units) and rotations [T, J, 3, 3] (joint to world).
    """
    num_frames, num_joints = local_rotations.shape[:2]
    local_matrices = Rotation.from_quat(local_rotations.reshape(-1, 4)).as_matrix()
    local_matrices = local_matrices.reshape(num_frames, num_joints, 3, 3)
    positions = np.empty((num_frames, num_joints, 3))
    rotations = np.empty((num_frames, num_joints, 3, 3))
    for joint, parent in enumerate(skeleton.parents):
        if parent < 0:
            rotations[:, joint] = local_matrices[:, joint]
            positions[:, joint] = local_translations[:, joint]
        else:
            rotations[:, joint] = rotations[:, parent] @ local_matrices[:, joint]
            positions[:, joint] = positions[:, parent] + np.einsum(
                "tij,tj->ti", rotations[:, parent], local_translations[:, joint]
            )
    return positions, rotations
