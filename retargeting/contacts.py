"""Foot contact detection on the human motion and contact locking of the robot foot targets.

Contact follows HumanML3D: a foot joint (ankle or foot/toe) is in contact with the floor when its
squared displacement to the next frame is below 0.002 m^2 at 20 fps (a speed below about 0.89 m/s);
the threshold is converted to a speed so it holds at any frame rate. A joint must also be low: within
``height_margin`` of the lowest height that joint type (ankle or toe) reaches in the clip.

While a robot foot keypoint is in contact its target is frozen horizontally at the position where the
contact started and put at its standing height, so the robot foot neither slides nor sinks. When the
contact ends, the target blends back to the free target over ``release_frames`` frames.
"""

from __future__ import annotations

import numpy as np

from retargeting.human import SMPL_INDEX

CONTACT_JOINTS: tuple[str, ...] = ("l_ankle", "l_foot", "r_ankle", "r_foot")
"""SMPL joints that can touch the floor."""

HUMANML3D_SQUARED_DISPLACEMENT_M2 = 0.002
"""HumanML3D's contact threshold on the squared frame-to-frame displacement at 20 fps (m^2)."""

HUMANML3D_FPS = 20.0
CONTACT_SPEED_M_S = float(np.sqrt(HUMANML3D_SQUARED_DISPLACEMENT_M2) * HUMANML3D_FPS)
"""The HumanML3D threshold expressed as a speed, about 0.894 m/s."""


def detect_foot_contacts(joints: np.ndarray, fps: float, height_margin: float = 0.06) -> np.ndarray:
    """Label the frames in which each human foot joint touches the floor.

    Args:
        joints: ``[T, 22, 3]`` joint positions in the robot world frame (Z up), metres.
        fps: Frame rate of ``joints``, frames per second.
        height_margin: Allowed height above the lowest height of the same joint type, metres.

    Returns:
        ``[T, 22]`` boolean array; only the :data:`CONTACT_JOINTS` columns can be ``True``. Frame ``t``
        uses the displacement from ``t`` to ``t + 1`` (the last frame repeats the previous label).
    """
    contacts = np.zeros(joints.shape[:2], dtype=bool)
    threshold = (CONTACT_SPEED_M_S / fps) ** 2
    for pair in (("l_ankle", "r_ankle"), ("l_foot", "r_foot")):
        indices = [SMPL_INDEX[name] for name in pair]
        lowest = float(joints[:, indices, 2].min())
        for index in indices:
            step = np.sum(np.diff(joints[:, index], axis=0) ** 2, axis=-1)
            slow = np.append(step < threshold, step[-1] < threshold)
            contacts[:, index] = slow & (joints[:, index, 2] < lowest + height_margin)
    return contacts


def contact_segments(flags: np.ndarray) -> list[tuple[int, int]]:
    """Half-open ``(start, stop)`` frame ranges of the runs of ``True`` in a ``[T]`` boolean array."""
    padded = np.concatenate(([False], flags.astype(bool), [False]))
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    return list(zip(edges[0::2].tolist(), edges[1::2].tolist(), strict=True))


def lock_contacts(
    positions: np.ndarray, contacts: np.ndarray, ground_heights: np.ndarray, release_frames: int = 3
) -> np.ndarray:
    """Freeze keypoint targets during contact and keep every target above its standing height.

    Args:
        positions: ``[T, K, 3]`` keypoint targets in the robot world frame, metres.
        contacts: ``[T, K]`` booleans, ``True`` where keypoint ``k`` must stay on the floor.
        ground_heights: ``[K]`` height of each keypoint when the robot stands on the floor (m); no target
            goes below it (use ``-inf`` for keypoints that are not on a foot).
        release_frames: Frames over which a released target blends back to its free trajectory.

    Returns:
        ``[T, K, 3]`` locked targets (a new array).
    """
    locked = positions.copy()
    frame_count = positions.shape[0]
    for k in np.flatnonzero(contacts.any(axis=0)):
        for start, stop in contact_segments(contacts[:, k]):
            anchor = positions[start, k, :2].copy()
            locked[start:stop, k, :2] = anchor
            locked[start:stop, k, 2] = ground_heights[k]
            release = min(release_frames, frame_count - stop)
            if release > 0 and not contacts[stop : stop + release, k].any():
                blend = (np.arange(1, release + 1) / (release + 1))[:, None]
                free = positions[stop : stop + release, k]
                held = np.append(anchor, ground_heights[k])
                locked[stop : stop + release, k] = blend * free + (1.0 - blend) * held
    locked[:, :, 2] = np.maximum(locked[:, :, 2], ground_heights)
    return locked
