"""Command validation, robot plans and their windows, the planner and the session (no ROS)."""

from __future__ import annotations

import re
import time
from pathlib import Path

import numpy as np
import pytest

from motionlcm_node.commands.plan import RobotPlan
from motionlcm_node.commands.planner import CommandPlanner, PlannerSettings, StartPose
from motionlcm_node.commands.requests import (
    BlendMode,
    Command,
    CommandError,
    ErrorCode,
    TargetKind,
    WaypointTarget,
    check_blend_seconds,
    check_duration,
    check_start_time,
    check_waypoints,
    clean_text,
)
from motionlcm_node.commands.session import CommandSession
from motionlcm_node.commands.shaping import blend_into

REPOSITORY = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("   \n\t ", "empty"),
        ("wave" * 30_000, "characters long; the limit is 300"),
        ("wave\x07 now", "control character U+0007"),
        ("wave\x1b[31m", "control character U+001B"),
        (b"wave \xff\xfe", "not valid UTF-8"),
        ("wave \ud800", "control character U+D800"),
        ("wave \ufffd\ufffd", "not valid UTF-8"),
    ],
)
def test_bad_text_is_a_clear_error(text: str | bytes, message: str) -> None:
    with pytest.raises(CommandError, match=re.escape(message)) as error:
        clean_text(text, 300)
    assert error.value.code is ErrorCode.INVALID_TEXT


def test_good_text_is_folded_and_kept() -> None:
    assert clean_text("  a person\twaves\n with the right hand ", 300) == "a person waves with the right hand"
    assert clean_text("Winke mit der rechten Hand 👋", 300) == "Winke mit der rechten Hand 👋"
    assert clean_text(b"a person waves", 300) == "a person waves"


def test_durations_blends_and_stamps() -> None:
    assert check_duration(0.0, 5.0) == 5.0 and check_duration(2.5, 5.0) == 2.5
    for bad in (-1.0, float("nan"), float("inf"), 0.1, 12.0):
        with pytest.raises(CommandError) as error:
            check_duration(bad, 5.0)
        assert error.value.code is ErrorCode.INVALID_DURATION
    assert check_blend_seconds(0.0, 0.5) == 0.5
    with pytest.raises(CommandError, match=r"outside 0\.05-3 s"):
        check_blend_seconds(10.0, 0.5)
    now = 1000.0
    assert check_start_time(None, now, 60, 5) is None and check_start_time(0.0, now, 60, 5) is None
    assert check_start_time(now + 2, now, 60, 5) == now + 2
    assert check_start_time(now - 1, now, 60, 5) is None  # slightly past: now
    with pytest.raises(CommandError, match="in the future"):
        check_start_time(now + 3600, now, 60, 5)
    with pytest.raises(CommandError, match="in the past"):
        check_start_time(now - 3600, now, 60, 5)


def test_waypoints_are_checked_and_sorted() -> None:
    frames = frozenset({"pelvis", "left_wrist_yaw_link"})
    good = [
        WaypointTarget(TargetKind.ROBOT_FRAME, "pelvis", (1.0, 0.0, 0.8), 2.0),
        WaypointTarget(TargetKind.HUMAN_JOINT, "r_wrist", (0.3, -0.2, 1.5), 0.5),
    ]
    assert [target.time for target in check_waypoints(good, 4.0, frames)] == [0.5, 2.0]
    bad_cases = [
        (WaypointTarget(TargetKind.HUMAN_JOINT, "right_hand", (0.0, 0.0, 1.0), 1.0), "unknown human joint"),
        (WaypointTarget(TargetKind.ROBOT_FRAME, "l_wrist", (0.0, 0.0, 1.0), 1.0), "unknown robot frame"),
        (WaypointTarget(TargetKind.HUMAN_JOINT, "r_wrist", (float("nan"), 0.0, 1.0), 1.0), "finite"),
        (WaypointTarget(TargetKind.HUMAN_JOINT, "r_wrist", (0.0, float("inf"), 1.0), 1.0), "finite"),
        (WaypointTarget(TargetKind.HUMAN_JOINT, "r_wrist", (300.0, 0.0, 1.0), 1.0), "from the origin"),
        (WaypointTarget(TargetKind.HUMAN_JOINT, "r_wrist", (0.0, 0.0, 1.0), 9.0), "outside the command"),
        (WaypointTarget(TargetKind.HUMAN_JOINT, "r_wrist", (0.0, 0.0, 1.0), -1.0), "outside the command"),
    ]
    for target, message in bad_cases:
        with pytest.raises(CommandError, match=message) as error:
            check_waypoints([*good, target], 4.0, frames)
        assert error.value.code is ErrorCode.INVALID_WAYPOINTS


def toy_plan(start: float = 10.0, count: int = 101, rate: float = 50.0, command_id: str = "a") -> RobotPlan:
    times = np.arange(count) / rate
    positions = np.stack([np.sin(times), 0.5 * np.cos(2 * times)], axis=1)
    base = np.zeros((count, 3))
    orientation = np.tile([0.0, 0.0, 0.0, 1.0], (count, 1))
    return RobotPlan(
        command_id,
        ("j0", "j1"),
        start,
        rate,
        positions,
        np.array([-2.0, -2.0]),
        np.array([2.0, 2.0]),
        base,
        orientation,
        np.zeros((count, 22, 3)),
    )


def test_a_window_holds_the_plan_and_ends_at_rest() -> None:
    plan = toy_plan()
    window = plan.window(10.013, horizon=0.5)
    assert window.stamp == pytest.approx(10.02)  # the first sample at or after the requested time
    assert np.all(np.diff(window.times) > 0) and window.times[0] == 0.0
    assert len(window.times) == 27  # 26 samples (0.5 s at 50 Hz, both ends) + the stop tail
    first = plan.sample_index_at(10.013)
    np.testing.assert_allclose(window.positions[:-1], plan.positions[first : first + 26])
    assert np.all(window.velocities[-1] == 0) and np.all(np.abs(window.positions) <= 2.0)
    # The tail moves on in the direction of the last velocity and stops.
    np.testing.assert_allclose(np.sign(window.positions[-1] - window.positions[-2]), np.sign(window.velocities[-2]))
    assert plan.window(plan.end + 0.1, 0.5) is None
    last = plan.window(plan.end - 0.05, 0.5)  # the plan's own end: no tail past it (this toy ends moving)
    assert last.times[-1] > 0.05


def test_splicing_keeps_the_old_plan_up_to_the_switch() -> None:
    old, new = toy_plan(), toy_plan(start=10.5, count=30, command_id="b")
    spliced = old.spliced(new)
    assert spliced.command_id == "b" and spliced.start == old.start
    np.testing.assert_allclose(spliced.positions[:25], old.positions[:25])
    np.testing.assert_allclose(spliced.positions[25:], new.positions)
    late = old.spliced(toy_plan(start=old.end + 1.0, count=5))  # after the old plan ended: it holds
    np.testing.assert_allclose(late.positions[101:150], np.repeat(old.positions[-1:], 49, axis=0))
    with pytest.raises(ValueError, match="grid"):
        old.spliced(toy_plan(start=10.511))
    trimmed = spliced.trimmed_before(11.0)
    assert trimmed.start == pytest.approx(10.98) and trimmed.end == pytest.approx(spliced.end)


def test_blending_starts_at_the_given_state_and_fades_into_the_target() -> None:
    rate, times = 50.0, np.arange(100) / 50.0
    target = np.stack([np.sin(times), times], axis=1)
    start, velocity = np.array([0.5, -0.3]), np.array([1.0, 0.0])
    blended = blend_into(target, start, velocity, seconds=0.6, rate=rate)
    np.testing.assert_allclose(blended[0], start)
    np.testing.assert_allclose((blended[1] - blended[0]) * rate, velocity, atol=0.05)
    np.testing.assert_allclose(blended[30:], target[30:], atol=1e-12)  # after 0.6 s: the target itself


@pytest.fixture(scope="module")
def planner() -> CommandPlanner:
    return CommandPlanner.from_models(None, "g1", PlannerSettings(seed=0), threads=1)


def test_a_plan_is_continuous_inside_the_limits_and_ends_at_rest(planner: CommandPlanner) -> None:
    pose = planner.rest_pose()
    pose = StartPose(pose.positions + 0.05, np.full_like(pose.positions, 0.2), np.array([1.0, 2.0, 0.8]), 0.7)
    command = Command("c1", "a person waves with the right hand", 3.0, blend_seconds=0.4)
    plan, timings = planner.plan(command, 5.0, pose)
    assert set(timings) == {"generate", "retarget"} and plan.start == 5.0
    assert plan.joint_names == planner.joint_names and len(plan.joint_names) == 29
    np.testing.assert_allclose(plan.positions[0], np.clip(pose.positions, planner.lower, planner.upper))
    assert np.all(plan.positions >= planner.lower - 1e-9) and np.all(plan.positions <= planner.upper + 1e-9)
    steps = np.abs(np.diff(plan.positions, axis=0)) * plan.rate
    assert np.all(steps <= planner.velocity_limits + 1e-6)
    assert plan.at_rest_at_end and plan.end >= 5.0 + 3.0
    np.testing.assert_allclose(plan.base_positions[0, :2], [1.0, 2.0], atol=1e-9)  # placed where the robot is
    assert plan.human_joints.shape == (len(plan.positions), 22, 3) and np.isfinite(plan.human_joints).all()
    standing = planner.stand("idle", plan.end, pose)
    np.testing.assert_allclose(standing.positions[-1], planner.rest_positions, atol=1e-6)


def test_the_session_takes_the_newest_command_and_queues_the_rest(planner: CommandPlanner) -> None:
    clock = {"now": 100.0}
    session = CommandSession(planner, lambda: clock["now"], switch_delay=0.05, idle="stand")
    for index in range(5):
        session.submit(Command(f"flood-{index}", "a person walks forward", 2.0))
    outcome = session.run_next()
    assert outcome.command.command_id == "flood-4" and session.stats.superseded == 4
    assert session.run_next() is None  # nothing else pending
    assert session.plan.command_id == "flood-4" and outcome.switch_time == pytest.approx(100.05)
    session.submit(Command("later", "a person waves", 1.0, blend_mode=BlendMode.AFTER_CURRENT))
    assert [command.command_id for command in session.queued] == ["later"] and session.run_next() is None
    clock["now"] = session.plan.end - 0.1  # close to the end: the queued command is due
    queued = session.run_next()
    assert queued.command.command_id == "later" and queued.switch_time >= clock["now"]
    clock["now"] = session.plan.end + 0.5  # the last plan ended: "stand" returns to the reference posture
    assert session.run_next() is None and session.plan.command_id == "idle"
    window = session.window(clock["now"], 0.5)
    assert window is not None and np.all(window.velocities[-1] == 0)
    with pytest.raises(CommandError, match="queued already"):
        for index in range(20):
            session.submit(Command(f"q{index}", "a person bows", 1.0, blend_mode=BlendMode.AFTER_CURRENT))


def test_a_replacing_command_splices_at_the_switch_without_a_jump(planner: CommandPlanner) -> None:
    clock = {"now": 50.0}
    session = CommandSession(planner, lambda: clock["now"], switch_delay=0.05)
    session.submit(Command("first", "a person walks forward", 3.0))
    session.run_next()
    clock["now"] = 51.0
    before = session.plan.state_at(51.2)
    session.submit(Command("second", "a person raises both hands", 2.0, blend_seconds=0.5))
    started = time.perf_counter()
    outcome = session.run_next()
    assert time.perf_counter() - started < 5.0
    switch = outcome.switch_time
    assert 51.05 <= switch < 51.1  # now + switch delay, on the old grid
    plan = session.plan
    index = round(plan.index_at(switch))
    steps = np.abs(np.diff(plan.positions[index - 5 : index + 5], axis=0)) * plan.rate
    assert np.all(steps <= planner.velocity_limits + 1e-6)  # no jump across the switch
    assert before is not None and plan.command_id == "second"


def test_a_staged_plan_hands_out_its_first_part_which_the_full_plan_keeps(planner: CommandPlanner) -> None:
    firsts = []
    planner.rng = np.random.default_rng(planner.settings.seed)
    command = Command("staged", "a person walks forward", 4.0)
    full, timings = planner.plan(command, 2.0, planner.rest_pose(), first_seconds=1.5, on_first=firsts.append)
    assert len(firsts) == 1 and "first" in timings and timings["first"] < timings["retarget"]
    first = firsts[0]
    assert first.start == full.start and first.end < full.end and first.at_rest_at_end
    inside = int(1.0 * first.rate)  # what a 1 s look-ahead window publishes from it
    np.testing.assert_allclose(first.positions[:inside], full.positions[:inside], atol=1e-9)
    planner.rng = np.random.default_rng(planner.settings.seed)  # the same noise again
    whole, _ = planner.plan(Command("whole", "a person walks forward", 4.0), 2.0, planner.rest_pose())
    motion = int(4.0 * full.rate)  # the motion itself, before each plan's stop
    # Solved in two pieces or in one, the IK gives the same joints.
    np.testing.assert_allclose(whole.positions[:motion], full.positions[:motion], atol=1e-5)
