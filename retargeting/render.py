"""Videos of a retargeted motion: the robot beside the human skeleton.

MuJoCo renders offscreen (``MUJOCO_GL=osmesa`` on a CPU, ``egl`` on a GPU; ``osmesa`` is chosen when
the variable is unset and there is no display). The robot is the URDF's own meshes loaded with
``mujoco.MjSpec`` (mesh paths resolved to files), with a stick figure of the Pinocchio joints as a
fallback for URDFs MuJoCo cannot load; the human skeleton is drawn as capsules next to it, following
the robot's base. If OpenGL is unavailable altogether, a matplotlib drawing of the link frames is
written instead. Videos are written with imageio (``.mp4`` through ffmpeg, or ``.gif``).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pinocchio as pin

from retargeting.errors import RenderError
from retargeting.human import SMPL_PARENTS
from retargeting.robot_model import BASE_Q, RobotModel
from retargeting.trajectory import RobotTrajectory
from retargeting.urdf_text import urdf_with_resolved_meshes

LOGGER = logging.getLogger(__name__)
HUMAN_OFFSET_M = np.array([0.0, -0.9, 0.0])
"""Where the human skeleton is drawn relative to the robot base (robot world frame, m): to its right."""
VIDEO_SUFFIXES = (".mp4", ".gif")


def _import_mujoco() -> ModuleType:
    """Import MuJoCo, selecting the offscreen OSMesa backend when no display and no choice is set."""
    if "MUJOCO_GL" not in os.environ and not os.environ.get("DISPLAY"):
        os.environ["MUJOCO_GL"] = "osmesa"
    import mujoco

    return mujoco


def _resolved_urdf_text(urdf: Path) -> str:
    """URDF text with mesh paths made absolute and a MuJoCo compiler block that keeps visual meshes."""
    block = '<mujoco><compiler strippath="false" discardvisual="false" fusestatic="false"/></mujoco>'
    return re.sub(r"(<robot[^>]*>)", lambda match: match.group(1) + block, urdf_with_resolved_meshes(urdf), count=1)


def _add_floor(mujoco: ModuleType, spec: Any) -> Any:
    """Add a checkered floor at z = 0 and an overhead light to a ``mujoco.MjSpec``; returns the spec."""
    spec.add_texture(
        name="retargeting_grid",
        type=mujoco.mjtTexture.mjTEXTURE_2D,
        builtin=mujoco.mjtBuiltin.mjBUILTIN_CHECKER,
        rgb1=[0.82, 0.84, 0.87],
        rgb2=[0.62, 0.66, 0.71],
        width=256,
        height=256,
    )
    material = spec.add_material(name="retargeting_floor", texrepeat=[10.0, 10.0])
    material.textures[mujoco.mjtTextureRole.mjTEXROLE_RGB] = "retargeting_grid"
    spec.worldbody.add_geom(
        type=mujoco.mjtGeom.mjGEOM_PLANE, size=[30.0, 30.0, 0.05], material="retargeting_floor", group=2
    )
    spec.worldbody.add_light(pos=[0.0, 0.0, 5.0], dir=[0.0, 0.0, -1.0], diffuse=[0.6, 0.6, 0.6])
    return spec


class _Scene:
    """A MuJoCo model (floor, and the robot meshes when available) plus an offscreen renderer."""

    def __init__(self, robot: RobotModel, width: int, height: int) -> None:
        self.mujoco = mujoco = _import_mujoco()
        self.robot = robot
        self.meshes = True
        try:
            spec = mujoco.MjSpec.from_string(_resolved_urdf_text(robot.config.urdf))
            spec.worldbody.first_body().add_freejoint()
            self.model = _add_floor(mujoco, spec).compile()
        except (ValueError, RuntimeError, OSError) as error:  # MuJoCo cannot load these meshes
            LOGGER.warning("drawing %s as a stick figure: MuJoCo cannot load its URDF (%s)", robot.name, error)
            self.meshes = False
            self.model = _add_floor(mujoco, mujoco.MjSpec()).compile()
        self.model.vis.headlight.ambient[:] = 0.45
        self.model.vis.headlight.diffuse[:] = 0.55
        self.data = mujoco.MjData(self.model)
        self.renderer = mujoco.Renderer(self.model, height=height, width=width, max_geom=2000)
        for flag in (mujoco.mjtRndFlag.mjRND_SHADOW, mujoco.mjtRndFlag.mjRND_REFLECTION):
            self.renderer.scene.flags[flag] = 0  # halves the CPU (OSMesa) rendering time
        self.option = mujoco.MjvOption()
        if self.meshes and np.any(self.model.geom_group == 1):
            self.option.geomgroup[0] = 0  # URDF collision geometry; visual meshes are in group 1
        self.camera = mujoco.MjvCamera()
        self.camera.distance, self.camera.azimuth, self.camera.elevation = 3.4, 200.0, -15.0
        self._qpos = {name: int(self.model.joint(name).qposadr[0]) for name in robot.joint_names} if self.meshes else {}

    def close(self) -> None:
        """Release the OpenGL context."""
        self.renderer.close()

    def _add_capsule(self, start: np.ndarray, end: np.ndarray, radius: float, rgba: np.ndarray) -> None:
        scene = self.renderer.scene
        if scene.ngeom >= scene.maxgeom:
            return
        geom = scene.geoms[scene.ngeom]
        mujoco = self.mujoco
        mujoco.mjv_initGeom(geom, mujoco.mjtGeom.mjGEOM_CAPSULE, np.zeros(3), np.zeros(3), np.eye(3).ravel(), rgba)
        mujoco.mjv_connector(geom, mujoco.mjtGeom.mjGEOM_CAPSULE, radius, start, end)
        scene.ngeom += 1

    def frame(self, q: np.ndarray, human: np.ndarray) -> np.ndarray:
        """Render one ``[H, W, 3]`` uint8 image of configuration ``q`` and ``[22, 3]`` human joints."""
        mujoco = self.mujoco
        if self.meshes:
            self.data.qpos[:3] = q[:3]
            self.data.qpos[3:7] = q[[6, 3, 4, 5]]  # MuJoCo quaternions are (w, x, y, z)
            for index, name in enumerate(self.robot.joint_names):
                self.data.qpos[self._qpos[name]] = q[BASE_Q + index]
        mujoco.mj_kinematics(self.model, self.data)
        self.camera.lookat[:] = 0.5 * (q[:3] + human[0]) * np.array([1.0, 1.0, 0.0]) + np.array([0.0, 0.0, 0.75])
        self.renderer.update_scene(self.data, self.camera, self.option)
        if not self.meshes:
            for start, end in robot_segments(self.robot, q):
                self._add_capsule(start, end, 0.025, np.array([0.25, 0.35, 0.55, 1.0]))
        for child, parent in enumerate(SMPL_PARENTS):
            if parent >= 0:
                self._add_capsule(human[parent], human[child], 0.03, np.array([0.85, 0.45, 0.25, 1.0]))
        return self.renderer.render().copy()


def robot_segments(robot: RobotModel, q: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Line segments from each joint origin to its parent's (robot world frame, m): a stick figure."""
    pin.forwardKinematics(robot.model, robot.data, q)
    origins = [placement.translation.copy() for placement in robot.data.oMi]
    return [(origins[robot.model.parents[j]], origins[j]) for j in range(2, robot.model.njoints)]


def _matplotlib_frames(
    robot: RobotModel, configurations: np.ndarray, humans: np.ndarray, size: tuple[int, int]
) -> Iterator[np.ndarray]:
    """Fallback frames: matplotlib 3-D drawing of the robot link frames and the human skeleton."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    figure = plt.figure(figsize=(size[0] / 100, size[1] / 100), dpi=100)
    axes: Any = figure.add_subplot(projection="3d")
    try:
        for q, human in zip(configurations, humans, strict=True):
            axes.cla()
            centre = 0.5 * (q[:3] + human[0])
            axes.set(xlim=(centre[0] - 1.2, centre[0] + 1.2), ylim=(centre[1] - 1.2, centre[1] + 1.2), zlim=(0, 2))
            for start, end in robot_segments(robot, q):
                axes.plot(*np.stack([start, end]).T, color="tab:blue", linewidth=2)
            for child, parent in enumerate(SMPL_PARENTS):
                if parent >= 0:
                    axes.plot(*human[[parent, child]].T, color="tab:orange", linewidth=2)
            figure.canvas.draw()
            yield np.asarray(figure.canvas.buffer_rgba())[:, :, :3].copy()
    finally:
        plt.close(figure)


def _human_beside_robot(human_joints: np.ndarray, configurations: np.ndarray) -> np.ndarray:
    """Human joints moved horizontally to stand at :data:`HUMAN_OFFSET_M` from the robot base."""
    shift = configurations[:, :3] - human_joints[:, 0]
    shift[:, 2] = 0.0
    return human_joints + (shift + HUMAN_OFFSET_M)[:, None, :]


def render_video(
    robot: RobotModel,
    trajectory: RobotTrajectory,
    human_joints: np.ndarray,
    fps: float,
    path: str | Path,
    size: tuple[int, int] = (320, 240),
    backend: str = "auto",
) -> Path:
    """Write a video of the robot trajectory next to the human motion it was retargeted from.

    Args:
        robot: The robot the trajectory belongs to.
        trajectory: The retargeted trajectory (any rate; sampled at the human frame times).
        human_joints: ``[T, 22, 3]`` human joints in the robot world frame (Z up), metres.
        fps: Frame rate of ``human_joints`` and of the video, frames per second.
        path: Output file, ``.mp4`` or ``.gif``.
        size: Width and height in pixels.
        backend: ``mujoco``, ``matplotlib``, or ``auto`` (MuJoCo, falling back to matplotlib).

    Returns:
        The written path.

    Raises:
        RenderError: Unsupported extension or backend, MuJoCo unavailable with ``backend="mujoco"``, or
            the file cannot be written.
    """
    path = Path(path)
    if path.suffix.lower() not in VIDEO_SUFFIXES:
        raise RenderError(f"video must end with one of {VIDEO_SUFFIXES}, got '{path.name}'")
    if backend not in ("auto", "mujoco", "matplotlib"):
        raise RenderError(f"unknown render backend '{backend}' (auto, mujoco, matplotlib)")
    samples = np.minimum(
        np.rint(np.arange(len(human_joints)) / fps * trajectory.rate).astype(int), trajectory.sample_count - 1
    )
    configurations = trajectory.configurations(robot)[samples]
    humans = _human_beside_robot(human_joints, configurations)
    scene = None
    if backend != "matplotlib":
        try:
            scene = _Scene(robot, *size)
        except Exception as error:
            if backend == "mujoco":
                raise RenderError(f"MuJoCo offscreen rendering failed: {error}") from error
            LOGGER.warning("MuJoCo rendering unavailable (%s); drawing with matplotlib", error)
    frames = (
        (scene.frame(q, human) for q, human in zip(configurations, humans, strict=True))
        if scene is not None
        else _matplotlib_frames(robot, configurations, humans, size)
    )
    try:
        _write_video(path, frames, fps)
    finally:
        if scene is not None:
            scene.close()
    return path


def _write_video(path: Path, frames: Iterator[np.ndarray], fps: float) -> None:
    """Write frames with imageio (mp4 via ffmpeg, or gif)."""
    import imageio.v2 as imageio

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix.lower() == ".gif":
            writer = imageio.get_writer(path, mode="I", duration=1000.0 / fps, loop=0)
        else:
            writer = imageio.get_writer(path, fps=fps, codec="libx264", macro_block_size=1, quality=7)
        with writer:
            for image in frames:
                writer.append_data(image)
    except (OSError, ValueError, RuntimeError) as error:
        raise RenderError(f"cannot write video {path}: {error}") from error
