"""Stick-figure pictures of SMPL-22 motion: animations (GIF/MP4) and contact sheets (PNG).

Joints are in metres, Y up. The camera looks at the body from its front-left, follows the root in
the ground plane, and draws a 0.5 m floor grid, the root's path on the floor, and optional target
points (for example ControlNet waypoints) as red markers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import imageio.v2 as imageio
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from motionlcm_node.data.smpl import KINEMATIC_CHAINS
from motionlcm_node.errors import MotionLCMError

#: Chain colours: right leg, left leg, spine, right arm, left arm (right = red tones, left = blue).
CHAIN_COLOURS = ("#d62728", "#1f77b4", "#333333", "#ff7f0e", "#17becf")
VIEW_RADIUS = 1.0  # metres shown around the root


def _to_plot(points: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """World (x, y up, z) to matplotlib 3D axes (x, depth = -z, up = y): a rotation, not a mirror."""
    return points[..., 0], -points[..., 2], points[..., 1]


def _setup_axes(axes: plt.Axes, joints: np.ndarray) -> None:
    axes.set_axis_off()
    axes.view_init(elev=12, azim=-50)  # camera in front of the body (+Z) and to its left (+X)
    axes.set_box_aspect((1, 1, 1), zoom=1.5)
    ground = np.stack(_to_plot(joints)[:2], axis=-1)
    low = np.floor(ground.min(axis=(0, 1)) - VIEW_RADIUS)
    high = np.ceil(ground.max(axis=(0, 1)) + VIEW_RADIUS)
    for x in np.arange(low[0], high[0] + 1e-6, 0.5):
        axes.plot([x, x], [low[1], high[1]], [0, 0], color="#cccccc", linewidth=0.5)
    for z in np.arange(low[1], high[1] + 1e-6, 0.5):
        axes.plot([low[0], high[0]], [z, z], [0, 0], color="#cccccc", linewidth=0.5)


def _frame_limits(axes: plt.Axes, centre: np.ndarray, radius: float = VIEW_RADIUS) -> None:
    x, depth, _ = _to_plot(centre)
    axes.set_xlim(x - radius, x + radius)
    axes.set_ylim(depth - radius, depth + radius)
    axes.set_zlim(0.0, 2.0 * radius)


def _check(joints: np.ndarray) -> np.ndarray:
    joints = np.asarray(joints, dtype=np.float64)
    if joints.ndim != 3 or joints.shape[1:] != (22, 3) or len(joints) == 0:
        raise MotionLCMError(f"expected joints [T, 22, 3], got {list(joints.shape)}")
    if not np.all(np.isfinite(joints)):
        raise MotionLCMError("joints contain NaN or infinite values")
    return joints


def render_frames(
    joints: np.ndarray, *, title: str = "", targets: np.ndarray | None = None, size_px: int = 400
) -> list[np.ndarray]:
    """Render every frame of a motion to RGB images.

    Args:
        joints: [T, 22, 3] positions in metres, Y up.
        title: text above the figure.
        targets: optional [K, 3] fixed or [T, K, 3] per-frame target points in metres (NaN = none).
        size_px: width and height of each image in pixels (a multiple of 16 suits video codecs).

    Returns:
        T arrays of shape [size_px, size_px, 3], uint8.
    """
    joints = _check(joints)
    if targets is not None:
        targets = np.asarray(targets, dtype=np.float64)
        targets = np.broadcast_to(targets, (len(joints), *targets.shape[-2:])) if targets.ndim == 2 else targets
        if targets.shape[0] != len(joints):
            raise MotionLCMError(f"targets have {targets.shape[0]} frames, the motion {len(joints)}")
    dpi = 100
    figure = plt.figure(figsize=(size_px / dpi, size_px / dpi), dpi=dpi)
    axes = figure.add_axes((0, 0, 1, 0.93 if title else 1), projection="3d")
    if title:
        figure.suptitle(title, fontsize=9, y=0.99)
    _setup_axes(axes, joints)
    path_x, path_z, _ = _to_plot(joints[:, 0])
    axes.plot(path_x, path_z, np.zeros_like(path_x), color="#2ca02c", linewidth=1.0, alpha=0.8)
    lines = [axes.plot([], [], [], color=c, linewidth=2.5)[0] for c in CHAIN_COLOURS]
    target_marker = axes.plot([], [], [], "o", color="red", markersize=4)[0] if targets is not None else None
    frames = []
    try:
        for t in range(len(joints)):
            for line, chain in zip(lines, KINEMATIC_CHAINS, strict=True):
                line.set_data_3d(*_to_plot(joints[t, list(chain)]))
            if target_marker is not None:
                visible = targets[t][np.all(np.isfinite(targets[t]), axis=-1)]
                target_marker.set_data_3d(*_to_plot(visible))
            _frame_limits(axes, joints[t, 0])
            figure.canvas.draw()
            frames.append(np.asarray(figure.canvas.buffer_rgba())[..., :3].copy())
    finally:
        plt.close(figure)
    return frames


def render_animation(
    joints: np.ndarray,
    out: Path,
    *,
    fps: float = 20.0,
    title: str = "",
    targets: np.ndarray | None = None,
    size_px: int = 400,
) -> Path:
    """Write a stick-figure animation as ``.gif`` or ``.mp4`` (H.264 via imageio-ffmpeg).

    Args:
        joints: [T, 22, 3] positions in metres, Y up.
        out: output path ending in .gif or .mp4.
        fps: playback rate in frames per second.
        title: text above the figure.
        targets: optional target points, see ``render_frames``.
        size_px: image size in pixels.

    Returns:
        ``out``.
    """
    suffix = out.suffix.lower()
    if suffix not in (".gif", ".mp4"):
        raise MotionLCMError(f"animation must be .gif or .mp4, got {out.name}")
    frames = render_frames(joints, title=title, targets=targets, size_px=size_px)
    out.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".gif":
        imageio.mimsave(out, frames, duration=1000.0 / fps, loop=0)
    else:
        imageio.mimsave(out, frames, fps=fps, codec="libx264", quality=7, macro_block_size=16)
    return out


def render_contact_sheet(
    clips: Sequence[np.ndarray], out: Path, *, titles: Sequence[str] | None = None, poses: int = 6
) -> Path:
    """A PNG grid with one panel per clip: ``poses`` evenly spaced poses overlaid, darker = later.

    Args:
        clips: motions, each [T, 22, 3] in metres.
        out: output .png path.
        titles: one title per clip.
        poses: poses drawn per clip.

    Returns:
        ``out``.
    """
    if not clips:
        raise MotionLCMError("contact sheet needs at least one clip")
    columns = min(4, len(clips))
    rows = math.ceil(len(clips) / columns)
    figure = plt.figure(figsize=(3 * columns, 3 * rows), dpi=100)
    try:
        for index, clip in enumerate(clips):
            joints = _check(clip)
            axes = figure.add_subplot(rows, columns, index + 1, projection="3d")
            _setup_axes(axes, joints)
            path_x, path_z, _ = _to_plot(joints[:, 0])
            axes.plot(path_x, path_z, np.zeros_like(path_x), color="#2ca02c", linewidth=1.0)
            for k, t in enumerate(np.linspace(0, len(joints) - 1, poses).round().astype(int)):
                alpha = 0.25 + 0.75 * k / max(poses - 1, 1)
                for colour, chain in zip(CHAIN_COLOURS, KINEMATIC_CHAINS, strict=True):
                    axes.plot(*_to_plot(joints[t, list(chain)]), color=colour, alpha=alpha)
            centre = joints[:, 0].mean(axis=0)
            radius = max(VIEW_RADIUS, 0.6 * float(np.ptp(joints[:, 0, [0, 2]], axis=0).max()) + 0.6)
            _frame_limits(axes, centre, radius)
            if titles is not None:
                axes.set_title(titles[index], fontsize=8)
        out.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(out)
    finally:
        plt.close(figure)
    return out
