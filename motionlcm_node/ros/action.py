"""The ``~/generate_motion`` action: text (and waypoints) in, the whole robot trajectory back, with feedback.

The goal is checked like a topic command; a bad goal is accepted and then aborted at once with the
error code that says why (``INVALID_TEXT``, ``INVALID_DURATION``, ``INVALID_WAYPOINTS``, ``NOT_ACTIVE``),
as nav2's actions report errors. The motion starts from the pose the running plan commands now (or the
measured one, or the reference posture) and is returned, not executed: publish a command to execute it.
Cancelling is honoured between stages (generation, retargeting).
"""

from __future__ import annotations

from collections.abc import Callable

from motionlcm_node.commands.planner import CancelledError, CommandPlanner
from motionlcm_node.commands.requests import (
    Command,
    CommandError,
    ErrorCode,
    check_duration,
    check_waypoints,
    clean_text,
)
from motionlcm_node.commands.session import CommandSession
from motionlcm_node.ros import messages


def execute_goal(
    goal_handle: object,
    planner: CommandPlanner,
    session: CommandSession,
    parameter: Callable[[str], object],
    active: Callable[[], bool],
    now: Callable[[], float],
) -> object:
    """Run one ``GenerateMotion`` goal to its end; returns the result (the handle is finished here)."""
    from motionlcm_msgs.action import GenerateMotion

    goal, result = goal_handle.request, GenerateMotion.Result()

    def finish(code: ErrorCode, message: str) -> object:
        result.error_code, result.message = code.value, message
        if code is ErrorCode.CANCELED:
            goal_handle.canceled()
        else:
            goal_handle.abort()
        return result

    def feedback(stage: str, fraction: float, understood: str = "") -> None:
        goal_handle.publish_feedback(
            GenerateMotion.Feedback(stage=stage, progress=float(fraction), understood=understood)
        )

    if not active():
        return finish(ErrorCode.NOT_ACTIVE, "the generator is not active")
    try:
        text = clean_text(goal.text, int(parameter("max_text_length")))
        duration = check_duration(float(goal.duration), float(parameter("default_duration")))
        targets = []
        if goal.waypoints.waypoints:
            targets = messages.waypoints_from_message(goal.waypoints, str(parameter("world_frame")))
        waypoints = check_waypoints(targets, duration, planner.frame_names)
    except CommandError as error:
        return finish(error.code, str(error))
    command = Command(
        messages.new_command_id(), text, duration, blend_seconds=float(parameter("blend_seconds")), waypoints=waypoints
    )
    try:
        command, understood = planner.understand(command)
    except CommandError as error:
        return finish(error.code, str(error))
    text = understood or text
    feedback(GenerateMotion.Feedback.STAGE_ENCODING_TEXT, 0.0, text)

    def progress(stage: str, fraction: float) -> None:
        if stage in ("generating", "retargeting"):
            feedback(stage, fraction, text)

    try:
        plan, _ = planner.plan(command, 0.0, session.pose_at(now()), progress, lambda: goal_handle.is_cancel_requested)
    except CancelledError:
        return finish(ErrorCode.CANCELED, "canceled by the client")
    except CommandError as error:
        return finish(error.code, str(error))
    window = plan.window(plan.start, plan.end - plan.start)
    result.trajectory = messages.trajectory_message(window, plan.joint_names)
    result.trajectory.header.stamp = messages.to_time(0.0)  # zero: start on receipt
    result.error_code = ErrorCode.SUCCESS.value
    result.message = "" if not waypoints else "waypoints validated; spatial control comes with the motion ControlNet"
    goal_handle.succeed()
    return result
