"""URDF text for other programs: mesh paths resolved to files, so MuJoCo, RViz or Gazebo find them.

URDFs name meshes with ``package://`` URIs that only a ROS package index (or the URDF's own folder
layout) can resolve. :func:`urdf_with_resolved_meshes` rewrites every mesh ``filename`` to an absolute
path, optionally with a scheme prefix (``file://`` for RViz and Gazebo).
"""

from __future__ import annotations

import re
from pathlib import Path

from retargeting.config import example_robot_data_dir

_MESH = re.compile(r'filename="([^"]+\.(?:stl|STL|obj|OBJ|dae|DAE|msh))"')
_EXAMPLE_ROBOT_DATA = "package://example-robot-data/robots/"


def mesh_path(name: str, urdf: Path) -> Path:
    """The file a URDF mesh ``filename`` names.

    Args:
        name: the attribute's value: ``package://package/rest``, absolute, or relative to the URDF.
        urdf: path of the URDF file (``package://`` URIs resolve against its parent folders).
    """
    if name.startswith(_EXAMPLE_ROBOT_DATA):
        return example_robot_data_dir() / name.removeprefix(_EXAMPLE_ROBOT_DATA)
    if name.startswith("package://"):
        package, _, rest = name.removeprefix("package://").partition("/")
        roots = [parent for parent in urdf.parents if parent.name == package]
        return (roots[0] if roots else urdf.parent) / rest
    if name.startswith("file://"):
        return Path(name.removeprefix("file://"))
    return Path(name) if Path(name).is_absolute() else urdf.parent / name


def urdf_with_resolved_meshes(urdf: Path, prefix: str = "") -> str:
    """The URDF's text with every mesh ``filename`` an absolute path, written after ``prefix``.

    Args:
        urdf: path of the URDF file.
        prefix: written before each path (``""`` for MuJoCo, ``"file://"`` for RViz and Gazebo).
    """
    text = urdf.read_text(encoding="utf-8")
    return _MESH.sub(lambda match: f'filename="{prefix}{mesh_path(match.group(1), urdf)}"', text)
