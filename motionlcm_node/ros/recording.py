"""Recording the generator's traffic to a rosbag2 MCAP file, and reading it back (``rosbags``, pure Python).

The node hands :class:`BagRecorder` the serialized (CDR) bytes of every command, waypoint set and joint
state it receives and every trajectory it publishes; they are written as they are, so the file is what
``ros2 bag record`` would have captured on those topics, and any rosbag2 or MCAP tool reads it. The
``motionlcm_msgs`` types are registered from their ``.msg`` files (installed in
``share/motionlcm_msgs/msg`` of the ROS prefix, or ``msgs/msg`` of a checkout).
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from motionlcm_node.errors import MotionLCMError
from motionlcm_node.resources import source_root

INTERFACES = ("MotionCommand", "Waypoint", "Waypoints", "GeneratorStatus")


def interface_folder() -> Path:
    """The folder with ``motionlcm_msgs``' ``.msg`` files.

    Raises:
        MotionLCMError: none found (the interface package is not built).
    """
    prefixes = [Path(sys.prefix)] + [Path(p) for p in os.environ.get("AMENT_PREFIX_PATH", "").split(os.pathsep) if p]
    candidates = [prefix / "share" / "motionlcm_msgs" / "msg" for prefix in prefixes]
    root = source_root()
    if root is not None:
        candidates.append(root / "msgs" / "msg")
    for folder in candidates:
        if (folder / "MotionCommand.msg").is_file():
            return folder
    raise MotionLCMError("motionlcm_msgs' .msg files not found: build the interfaces (scripts/setup_ros.sh)")


def typestore() -> object:
    """A ROS 2 Jazzy ``rosbags`` type store with ``motionlcm_msgs`` registered."""
    from rosbags.typesys import Stores, get_types_from_msg, get_typestore

    store = get_typestore(Stores.ROS2_JAZZY)
    folder = interface_folder()
    types = {}
    for name in INTERFACES:
        types.update(get_types_from_msg((folder / f"{name}.msg").read_text(), f"motionlcm_msgs/msg/{name}"))
    store.register(types)
    return store


def bag_path(path: str | Path) -> Path:
    """The bag to write: ``path`` itself for a ``.mcap`` name, else a timestamped bag in folder ``path``.

    An existing bag is never overwritten: ``_1``, ``_2``, ... is appended (a re-configured node records
    its next session beside the last).
    """
    target = Path(path).expanduser()
    target = (
        target.with_suffix("") if target.suffix == ".mcap" else target / time.strftime("motion_generator_%Y%m%d_%H%M%S")
    )
    candidate, index = target, 0
    while candidate.exists():
        index += 1
        candidate = target.with_name(f"{target.name}_{index}")
    return candidate


class BagRecorder:
    """Writes (topic, type, CDR bytes, time) records to an MCAP rosbag2; thread-safe.

    Args:
        path: a ``.mcap`` name or a folder (see ``bag_path``); rosbag2 makes a folder of that name
            holding ``<name>.mcap`` and ``metadata.yaml``.

    Raises:
        MotionLCMError: the bag cannot be created (it exists already, or the folder is not writable).
    """

    def __init__(self, path: str | Path) -> None:
        from rosbags.rosbag2 import StoragePlugin, Writer

        self.path = bag_path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._store = typestore()
        self._writer = Writer(self.path, version=9, storage_plugin=StoragePlugin.MCAP)
        try:
            self._writer.open()
        except Exception as error:
            raise MotionLCMError(f"cannot record to {self.path}: {error}") from error
        self._connections: dict[str, object] = {}
        self._lock = threading.Lock()
        self.messages = 0

    def write(self, topic: str, msgtype: str, data: bytes, stamp_ns: int) -> None:
        """Record one serialized message (``msgtype`` as ``pkg/msg/Name``) at ``stamp_ns`` nanoseconds."""
        with self._lock:
            if self._writer is None:
                return
            connection = self._connections.get(topic)
            if connection is None:
                connection = self._writer.add_connection(topic, msgtype, typestore=self._store)
                self._connections[topic] = connection
            self._writer.write(connection, stamp_ns, self._exact_cdr(msgtype, bytes(data)))
            self.messages += 1

    def _exact_cdr(self, msgtype: str, data: bytes) -> bytes:
        """``data`` without the alignment padding Fast CDR appends after the last field (up to 8 bytes).

        rosbags (and other strict readers) refuse messages longer than their fields by more than 3 bytes;
        ``rclpy.serialization`` output of e.g. ``JointTrajectory`` carries 8. The fields are untouched.
        """
        if len(data) < 4 or data[:2] != b"\x00\x01":
            return data
        definition = self._store.get_msgdef(msgtype)
        _, end = definition.deserialize_cdr_le(memoryview(data)[4:], 0, definition.cls, self._store)
        size = 4 + end
        return data[: size + (-size % 4)]

    def close(self) -> None:
        """Finish the file (idempotent)."""
        with self._lock:
            if self._writer is not None:
                self._writer.close()
                self._writer = None


def read_bag(path: str | Path, topics: tuple[str, ...] | None = None) -> Iterator[tuple[str, int, object]]:
    """(topic, log time in ns, decoded message) of a recorded bag, in time order.

    Raises:
        MotionLCMError: no such bag.
    """
    from rosbags.highlevel import AnyReader

    folder = Path(path)
    if folder.is_file():  # the .mcap inside a rosbag2 folder
        folder = folder.parent
    elif folder.suffix == ".mcap" and not folder.exists():  # the name given to the recorder
        folder = folder.with_suffix("")
    if not (folder / "metadata.yaml").is_file():
        raise MotionLCMError(f"no bag at {path}")
    with AnyReader([folder], default_typestore=typestore()) as reader:
        connections = [c for c in reader.connections if topics is None or c.topic in topics]
        for connection, stamp, raw in reader.messages(connections=connections):
            yield connection.topic, stamp, reader.deserialize(raw, connection.msgtype)
