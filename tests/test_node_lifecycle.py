"""The node's lifecycle driven from outside (``~/change_state``), starting from the measured joint state,
and recording to MCAP with ``motionlcm replay`` of the bag."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("rclpy", reason="ROS 2 (scripts/setup_ros.sh) is not installed")
pytest.importorskip("motionlcm_msgs", reason="motionlcm_msgs is not built (scripts/setup_ros.sh)")

from lifecycle_msgs.msg import Transition
from lifecycle_msgs.srv import ChangeState, GetState
from motionlcm_msgs.msg import GeneratorStatus
from sensor_msgs.msg import JointState
from std_msgs.msg import String
from trajectory_msgs.msg import JointTrajectory

from tests.ros_helpers import Client, NodeProcess, fresh_domain_id

NODE = "/motion_generator"


@pytest.fixture(scope="module")
def managed(tmp_path_factory: pytest.TempPathFactory) -> tuple[NodeProcess, Client, Path]:
    """A node started with autostart off and recording on, and a client."""
    domain, folder = fresh_domain_id(), tmp_path_factory.mktemp("lifecycle")
    bag = folder / "session.mcap"
    node = NodeProcess(domain, folder / "node.log", autostart=False, record_path=str(bag), default_duration=1.5)
    client = Client(domain)
    client.listen(JointTrajectory, "/joint_trajectory")
    client.listen(GeneratorStatus, f"{NODE}/status")
    client.text = client.node.create_publisher(String, f"{NODE}/command", 10)
    client.joints = client.node.create_publisher(JointState, "/joint_states", 10)
    client.change = client.node.create_client(ChangeState, f"{NODE}/change_state")
    client.get = client.node.create_client(GetState, f"{NODE}/get_state")
    assert client.spin_until(lambda: client.change.service_is_ready() and client.get.service_is_ready(), 60), (
        node.log.read_text()[-3000:]
    )
    yield node, client, bag
    client.close()
    node.stop()


def state(client: Client) -> str:
    return client.wait_for_future(client.get.call_async(GetState.Request())).current_state.label


def transition(client: Client, transition_id: int) -> bool:
    request = ChangeState.Request(transition=Transition(id=transition_id))
    return client.wait_for_future(client.change.call_async(request), timeout=60).success


def command_gives_trajectories(client: Client, text: str, wait: float = 1.5) -> bool:
    start = time.monotonic()
    client.text.publish(String(data=text))
    return client.spin_until(lambda: any(when > start for when, _ in client.heard["/joint_trajectory"]), wait)


def test_lifecycle_transitions_gate_the_output(managed: tuple[NodeProcess, Client, Path]) -> None:
    node, client, _ = managed
    assert state(client) == "unconfigured"
    assert client.spin_until(lambda: client.text.get_subscription_count() == 0, 1.0)  # no inputs before configure
    assert transition(client, Transition.TRANSITION_CONFIGURE) and state(client) == "inactive"
    assert client.spin_until(lambda: client.text.get_subscription_count() > 0, 10)
    assert not command_gives_trajectories(client, "a person waves")  # inactive: nothing is published
    assert client.spin_until(lambda: client.heard[f"{NODE}/status"][-1][1].message.endswith("not active"), 5)
    assert transition(client, Transition.TRANSITION_ACTIVATE) and state(client) == "active"
    # The first motion starts from the robot's measured pose.
    pose = np.full(29, 0.1)
    message = JointState(name=list(node_joint_names()), position=pose.tolist(), velocity=[0.0] * 29)
    client.joints.publish(message)
    client.spin_for(0.3)
    start = time.monotonic()
    assert command_gives_trajectories(client, "a person raises both hands", wait=10)
    first = next(m for when, m in client.heard["/joint_trajectory"] if when > start)
    from retargeting import load_robot

    robot = load_robot("g1")
    expected = np.clip(pose, robot.lower[robot.urdf_order], robot.upper[robot.urdf_order])
    np.testing.assert_allclose(first.points[0].positions, expected, atol=0.05)  # within one blended step
    assert transition(client, Transition.TRANSITION_DEACTIVATE) and state(client) == "inactive"
    client.spin_for(0.3)
    assert not command_gives_trajectories(client, "a person bows")
    assert transition(client, Transition.TRANSITION_CLEANUP) and state(client) == "unconfigured"
    assert transition(client, Transition.TRANSITION_CONFIGURE) and transition(client, Transition.TRANSITION_ACTIVATE)
    assert command_gives_trajectories(client, "a person walks forward", wait=10)
    assert node.alive()


def node_joint_names() -> tuple[str, ...]:
    from retargeting import load_robot

    return load_robot("g1").urdf_joint_names


def test_the_recording_holds_the_traffic_and_replays_to_a_video(
    managed: tuple[NodeProcess, Client, Path], tmp_path: Path
) -> None:
    from motionlcm_node.cli.main import main
    from motionlcm_node.ros.recording import read_bag

    node, client, bag = managed
    assert transition(client, Transition.TRANSITION_ACTIVE_SHUTDOWN if state(client) == "active" else
                      Transition.TRANSITION_UNCONFIGURED_SHUTDOWN)  # fmt: skip
    assert node.stop() == 0
    topics: dict[str, int] = {}
    for topic, _, message in read_bag(bag):
        topics[topic] = topics.get(topic, 0) + 1
        if topic == "/joint_trajectory":
            assert len(message.joint_names) == 29
    assert topics.get(f"{NODE}/command", 0) >= 3 and topics.get("/joint_states", 0) >= 1
    assert topics.get("/joint_trajectory", 0) >= 1, topics
    video = tmp_path / "replay.mp4"
    assert main(["replay", str(bag), "--out", str(video), "--no-render"]) == 0
    assert main(["replay", str(tmp_path / "missing.mcap"), "--out", str(video)]) == 2


def test_a_parameter_file_configures_the_node(tmp_path: Path) -> None:
    from rcl_interfaces.srv import GetParameters

    shipped = Path(__file__).resolve().parents[1] / "config" / "motion_generator.yaml"
    edited = tmp_path / "params.yaml"
    text = shipped.read_text().replace("default_duration: 5.0", "default_duration: 2.5")
    edited.write_text(text.replace('idle_behavior: "hold"', 'idle_behavior: "stand"'))
    domain = fresh_domain_id()
    node = NodeProcess(domain, tmp_path / "node.log", ("--params-file", str(edited)), autostart=False)
    client = Client(domain, "parameter_client")
    try:
        service = client.node.create_client(GetParameters, f"{NODE}/get_parameters")
        assert client.spin_until(service.service_is_ready, 30), node.log.read_text()[-2000:]
        names = ["default_duration", "idle_behavior", "lookahead"]
        values = client.wait_for_future(service.call_async(GetParameters.Request(names=names))).values
        assert (values[0].double_value, values[1].string_value, values[2].double_value) == (2.5, "stand", 1.0)
    finally:
        client.close()
        node.stop()
