"""The ``motion_generator`` node on real rclpy over loopback: commands, waypoints, bad input, parameters,
the action, a flood of commands. The node runs in its own process, as ``ros2 run`` would start it."""

from __future__ import annotations

import itertools
import math
import time

import numpy as np
import pytest

pytest.importorskip("rclpy", reason="ROS 2 (scripts/setup_ros.sh) is not installed")
pytest.importorskip("motionlcm_msgs", reason="motionlcm_msgs is not built (scripts/setup_ros.sh)")

from builtin_interfaces.msg import Duration
from geometry_msgs.msg import Point, PointStamped, PoseStamped
from motionlcm_msgs.action import GenerateMotion
from motionlcm_msgs.msg import GeneratorStatus, MotionCommand, Waypoint, Waypoints
from nav_msgs.msg import Path as PathMessage
from rclpy.action import ActionClient
from rclpy.serialization import serialize_message
from sensor_msgs.msg import JointState
from std_msgs.msg import String
from trajectory_msgs.msg import JointTrajectory
from visualization_msgs.msg import MarkerArray

from tests.ros_helpers import Client, NodeProcess, fresh_domain_id

NODE = "/motion_generator"


@pytest.fixture(scope="module")
def robot() -> object:
    from retargeting import load_robot

    return load_robot("g1")


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> tuple[NodeProcess, Client]:
    """One active node (autostart) and a client listening to everything it publishes."""
    domain = fresh_domain_id()
    node = NodeProcess(domain, tmp_path_factory.mktemp("node") / "node.log", default_duration=2.0)
    client = Client(domain)
    client.domain = domain
    client.listen(JointTrajectory, "/joint_trajectory")
    client.listen(GeneratorStatus, f"{NODE}/status")
    client.listen(MarkerArray, f"{NODE}/human_skeleton")
    client.publishers = {
        "text": client.node.create_publisher(String, f"{NODE}/command", 50),
        "command": client.node.create_publisher(MotionCommand, f"{NODE}/motion_command", 10),
        "waypoints": client.node.create_publisher(Waypoints, f"{NODE}/waypoints", 10),
        "path": client.node.create_publisher(PathMessage, f"{NODE}/pelvis_path", 10),
        "hand": client.node.create_publisher(PointStamped, f"{NODE}/hand_target", 10),
        "joints": client.node.create_publisher(JointState, "/joint_states", 10),
    }
    ready = client.spin_until(
        lambda: (
            any(m.state == "active" for _, m in client.heard[f"{NODE}/status"])
            and all(p.get_subscription_count() > 0 for p in client.publishers.values())
        ),
        timeout=60,
    )
    assert ready, node.log.read_text()[-3000:]
    yield node, client
    client.close()
    assert node.stop() == 0, node.log.read_text()[-3000:]


def trajectories_after(client: Client, start: float) -> list[JointTrajectory]:
    return [message for when, message in client.heard["/joint_trajectory"] if when >= start]


def latest_status(client: Client) -> GeneratorStatus:
    return client.heard[f"{NODE}/status"][-1][1]


def assert_valid(messages: list[JointTrajectory], robot: object) -> None:
    """Every message: the robot's joints, strictly increasing times, finite, inside the limits, ending at rest."""
    lower, upper = robot.lower[robot.urdf_order], robot.upper[robot.urdf_order]
    for message in messages:
        assert tuple(message.joint_names) == tuple(robot.urdf_joint_names)
        times = [point.time_from_start.sec + point.time_from_start.nanosec * 1e-9 for point in message.points]
        assert len(times) >= 2 and all(b > a for a, b in itertools.pairwise(times))
        positions = np.array([point.positions for point in message.points])
        assert np.isfinite(positions).all()
        assert np.all(positions >= lower - 1e-9) and np.all(positions <= upper + 1e-9)
        assert np.allclose(message.points[-1].velocities, 0.0)


def status_says(client: Client, text: str, since: float) -> bool:
    return any(text in message.message for when, message in client.heard[f"{NODE}/status"] if when >= since)


def test_a_text_command_gives_valid_trajectories_and_a_skeleton(running: tuple[NodeProcess, Client], robot) -> None:
    _, client = running
    start = time.monotonic()
    client.publishers["text"].publish(String(data="a person waves with the right hand"))
    assert client.spin_until(lambda: len(trajectories_after(client, start)) >= 5, timeout=10)
    messages = trajectories_after(client, start)
    assert_valid(messages, robot)
    assert len(messages[0].points) > 40  # a second of look-ahead at 50 Hz, plus the stop tail
    assert client.spin_until(lambda: latest_status(client).command_text == "a person waves with the right hand", 5)
    status = latest_status(client)
    assert status.state == "active" and 0 < status.last_latency_ms < 1000 and status.trajectories_published > 0
    stamp = status.trajectory_stamp
    assert any(message.header.stamp == stamp for message in messages)  # the message that started the command
    markers = [m for when, m in client.heard[f"{NODE}/human_skeleton"] if when >= start]
    assert markers and len(markers[-1].markers[1].points) == 22 and markers[-1].markers[0].header.frame_id == "world"
    # Consecutive windows agree where they overlap: the controller's replacement is seamless.
    first, second = messages[-2], messages[-1]
    offset = (second.header.stamp.sec - first.header.stamp.sec) + (
        second.header.stamp.nanosec - first.header.stamp.nanosec
    ) * 1e-9
    steps = round(offset * 50)
    if 0 < steps < len(first.points) - 2:
        np.testing.assert_allclose(first.points[steps].positions, second.points[0].positions, atol=1e-6)


def test_motion_command_with_waypoints_and_the_other_inputs(running: tuple[NodeProcess, Client], robot) -> None:
    _, client = running
    start = time.monotonic()
    waypoint = Waypoint(target_kind=Waypoint.HUMAN_JOINT, name="r_wrist", position=Point(x=0.4, y=-0.2, z=1.4),
                        time_from_start=Duration(sec=1))  # fmt: skip
    targets = Waypoints(command_id="wave-7", waypoints=[waypoint])
    targets.header.frame_id = "world"
    client.publishers["waypoints"].publish(targets)
    client.spin_for(0.2)
    command = MotionCommand(command_id="wave-7", text="a person waves", duration=2.0, blend_seconds=0.3)
    client.publishers["command"].publish(command)
    assert client.spin_until(lambda: latest_status(client).command_id == "wave-7", timeout=10)
    assert client.spin_until(lambda: status_says(client, "waypoint(s) validated", start), timeout=5)
    path = PathMessage()
    path.header.frame_id = "world"
    for x in (0.5, 1.0, 1.5):
        pose = PoseStamped()
        pose.pose.position.x, pose.pose.position.z = x, 0.9
        path.poses.append(pose)
    client.publishers["path"].publish(path)
    assert client.spin_until(lambda: latest_status(client).command_text == "a person walks forward", timeout=10)
    point = PointStamped(point=Point(x=0.5, y=-0.3, z=1.2))
    point.header.frame_id = "world"
    client.publishers["hand"].publish(point)
    assert client.spin_until(lambda: "reaches forward with the right hand" in latest_status(client).command_text, 10)
    assert_valid(trajectories_after(client, start), robot)


def raw_string_with_invalid_utf8() -> bytes:
    data = serialize_message(String(data="wave XXXX"))
    return data.replace(b"XXXX", b"\xff\xfe\xfd\xfc")


@pytest.mark.parametrize(
    ("kind", "payload", "expected"),
    [
        ("text", String(data=""), "text is empty"),
        ("text", String(data="w" * 100_000), "characters long"),
        ("text", String(data="wave\x07\x1b[2J"), "control character"),
        ("raw", raw_string_with_invalid_utf8(), "not valid UTF-8"),
        ("text", String(data="make me a sandwich"), "cannot do 'make me a sandwich'"),
        ("text", String(data="blorp zzzxq fnar"), "closest known actions"),
        ("command", MotionCommand(text="wave", duration=float("nan")), "duration must be"),
        ("command", MotionCommand(text="wave", duration=60.0), "outside 0.5-9.8 s"),
        ("command", MotionCommand(text="wave", blend_mode=7), "unknown blend_mode"),
        ("stamp_future", MotionCommand(text="wave", blend_mode=MotionCommand.BLEND_AT_STAMP), "in the future"),
        ("stamp_past", MotionCommand(text="wave", blend_mode=MotionCommand.BLEND_AT_STAMP), "in the past"),
        ("waypoints", Waypoints(command_id="nan", waypoints=[Waypoint(name="r_wrist", position=Point(x=math.nan))]),
         "finite"),
        ("waypoints", Waypoints(command_id="who", waypoints=[Waypoint(name="tail", position=Point(x=0.1))]),
         "unknown human joint"),
        ("waypoints", Waypoints(command_id="frame", waypoints=[Waypoint(name="l_wrist", target_kind=1)]),
         "unknown robot frame"),
        ("frame", Waypoints(command_id="map", waypoints=[Waypoint(name="r_wrist")]), "unknown frame 'map'"),
        ("path", PathMessage(), "the path holds no poses"),
        ("joints", JointState(name=["left_knee_joint"], position=[math.inf]), "joint_states"),
    ],
)  # fmt: skip
def test_bad_input_is_a_warning_never_a_crash_or_a_bad_trajectory(
    running: tuple[NodeProcess, Client], robot, kind: str, payload: object, expected: str
) -> None:
    node, client = running
    start = time.monotonic()
    if kind == "raw":
        client.publishers["text"].publish(payload)
    elif kind.startswith("stamp"):
        now = client.node.get_clock().now().nanoseconds * 1e-9
        when = now + 3600 if kind == "stamp_future" else now - 3600
        payload.header.stamp.sec, payload.header.stamp.nanosec = int(when), 0
        client.publishers["command"].publish(payload)
    elif kind == "frame":
        payload.header.frame_id = "map"
        client.publishers["waypoints"].publish(payload)
    else:
        client.publishers[kind].publish(payload)
    if kind != "joints":
        assert client.spin_until(lambda: status_says(client, expected, start), timeout=5), latest_status(client)
    else:
        client.spin_for(0.5)
    assert node.alive()
    assert_valid(trajectories_after(client, start), robot)


def test_parameters_are_described_and_nonsense_is_refused(running: tuple[NodeProcess, Client]) -> None:
    from rcl_interfaces.msg import Parameter, ParameterType, ParameterValue
    from rcl_interfaces.srv import DescribeParameters, SetParameters

    node, client = running
    setter = client.node.create_client(SetParameters, f"{NODE}/set_parameters")
    describer = client.node.create_client(DescribeParameters, f"{NODE}/describe_parameters")
    assert client.spin_until(lambda: setter.service_is_ready() and describer.service_is_ready(), 10)

    def set_one(name: str, value: ParameterValue) -> object:
        request = SetParameters.Request(parameters=[Parameter(name=name, value=value)])
        return client.wait_for_future(setter.call_async(request)).results[0]

    integer = ParameterValue(type=ParameterType.PARAMETER_INTEGER, integer_value=3)
    assert not set_one("steps", integer).successful
    assert "1, 2 or 4" in set_one("steps", integer).reason
    assert not set_one("lookahead", ParameterValue(type=ParameterType.PARAMETER_DOUBLE, double_value=-1.0)).successful
    assert not set_one(
        "idle_behavior", ParameterValue(type=ParameterType.PARAMETER_STRING, string_value="dance")
    ).successful
    assert not set_one("robot", ParameterValue(type=ParameterType.PARAMETER_STRING, string_value="talos")).successful
    assert not set_one("steps", ParameterValue(type=ParameterType.PARAMETER_STRING, string_value="two")).successful
    assert set_one("steps", ParameterValue(type=ParameterType.PARAMETER_INTEGER, integer_value=2)).successful
    assert set_one("steps", ParameterValue(type=ParameterType.PARAMETER_INTEGER, integer_value=1)).successful
    described = client.wait_for_future(describer.call_async(DescribeParameters.Request(names=["lookahead", "robot"])))
    lookahead, robot_name = described.descriptors
    assert "look-ahead" in lookahead.description.lower() or "ahead" in lookahead.description
    assert lookahead.floating_point_range[0].to_value == 5.0 and robot_name.read_only
    assert node.alive()


def test_the_action_gives_feedback_a_result_error_codes_and_cancels(running: tuple[NodeProcess, Client], robot) -> None:
    _, client = running
    action = ActionClient(client.node, GenerateMotion, f"{NODE}/generate_motion")
    assert client.spin_until(action.server_is_ready, 10)
    feedback: list[object] = []
    goal = GenerateMotion.Goal(text="a person bows", duration=2.0)
    handle = client.wait_for_future(action.send_goal_async(goal, feedback_callback=feedback.append))
    assert handle.accepted
    result = client.wait_for_future(handle.get_result_async(), 20).result
    assert result.error_code == GenerateMotion.Result.SUCCESS and result.message == ""
    assert_valid([result.trajectory], robot)
    assert len(result.trajectory.points) > 100  # 2 s at 50 Hz and the stop
    stages = [message.feedback.stage for message in feedback]
    assert "generating" in stages and "retargeting" in stages
    assert "understood 'a person bows' as bow" in feedback[-1].feedback.understood
    bad_goals = [
        (GenerateMotion.Goal(text=" "), GenerateMotion.Result.INVALID_TEXT),
        (GenerateMotion.Goal(text="wave", duration=-2.0), GenerateMotion.Result.INVALID_DURATION),
        (GenerateMotion.Goal(text="do a backflip", duration=2.0), GenerateMotion.Result.REFUSED),
    ]
    for bad, code in bad_goals:
        handle = client.wait_for_future(action.send_goal_async(bad))
        result = client.wait_for_future(handle.get_result_async(), 10).result
        assert result.error_code == code and result.message
    handle = client.wait_for_future(action.send_goal_async(GenerateMotion.Goal(text="a person runs", duration=9.8)))
    client.wait_for_future(handle.cancel_goal_async())
    result = client.wait_for_future(handle.get_result_async(), 20).result
    assert result.error_code == GenerateMotion.Result.CANCELED and len(result.trajectory.points) == 0
    action.destroy()


def test_motionlcm_send_reports_acceptance_refusal_and_the_trajectories(
    running: tuple[NodeProcess, Client], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from motionlcm_node.cli.main import main

    _, client = running
    monkeypatch.setenv("ROS_DOMAIN_ID", str(client.domain))
    monkeypatch.setenv("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
    assert main(["send", "a person waves with the right hand", "--duration", "2", "--watch", "1"]) == 0
    out = capsys.readouterr().out
    assert "accepted as cli-" in out and "29 joints" in out and "positions finite" in out, out
    assert main(["send", "   ", "--watch", "0"]) == 2
    assert "refused: ~/motion_command: command 'cli-" in capsys.readouterr().out
    assert main(["send", "a person bows", "--node", "/nobody_here", "--timeout", "1", "--watch", "0"]) == 1
    assert "no node /nobody_here heard" in capsys.readouterr().out
    assert main(["send", "a person bows", "--watch", "nan"]) == 2


def test_a_flood_of_commands_leaves_the_node_responsive_and_the_newest_wins(
    running: tuple[NodeProcess, Client], robot
) -> None:
    node, client = running
    publisher = client.publishers["text"]
    client.spin_for(0.5)
    memory = []
    start = time.monotonic()
    for index in range(1000):  # 100 commands/s for 10 s
        publisher.publish(String(data=f"a person walks forward, take {index}"))
        client.executor.spin_once(timeout_sec=0.0)
        if index % 100 == 0:
            memory.append(node.rss_mib())
        while time.monotonic() < start + (index + 1) / 100:
            client.executor.spin_once(timeout_sec=0.002)
    flood_end = time.monotonic()
    assert client.spin_until(lambda: latest_status(client).command_text == "a person walks forward, take 999", 5)
    status = latest_status(client)
    assert status.commands_received >= 1000 and node.alive()
    received = [when for when, _ in client.heard[f"{NODE}/status"] if start <= when <= flood_end]
    assert len(received) >= 8  # status kept coming during the flood (1 Hz timer and after every plan)
    trajectories = [when for when, _ in client.heard["/joint_trajectory"] if start + 1 <= when <= flood_end]
    assert len(trajectories) >= 50 and max(np.diff(trajectories)) < 1.0  # the robot never ran out of trajectory
    assert_valid(trajectories_after(client, start)[-20:], robot)
    assert max(memory[3:]) - memory[3] < 30, memory  # MiB: flat after the first seconds
