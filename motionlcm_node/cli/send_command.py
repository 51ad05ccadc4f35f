"""``motionlcm send``: one command to a running ``motion_generator`` node, and what came out.

Examples::

    motionlcm send "a person waves with the right hand"
    motionlcm send "a person bows" --duration 3 --after-current --watch 5
    ROS_DOMAIN_ID=7 motionlcm send "a person walks forward" --node /robot1/motion_generator

Exit codes: 0 accepted, 2 refused (the node's reason is printed) or bad arguments, 1 no node or no verdict.
"""

from __future__ import annotations

import argparse
import math

from motionlcm_node.errors import MotionLCMError


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``send`` command."""
    parser = subparsers.add_parser(
        "send",
        help="send a text command to a running node and watch its trajectories",
        description="Publish one motionlcm_msgs/MotionCommand to a running motion_generator node, report whether "
        "it was accepted (and the latency the node measured) or refused (and why), then summarise the "
        "JointTrajectory messages heard for --watch seconds.",
    )
    parser.add_argument("text", help="what the robot should do")
    parser.add_argument("--duration", type=float, default=0.0, help="motion length, s (0: the node's default)")
    parser.add_argument("--after-current", action="store_true", help="queue it after the running motion")
    parser.add_argument("--node", default="/motion_generator", help="the node's fully qualified name")
    parser.add_argument("--trajectory-topic", default="/joint_trajectory", help="where the node's trajectories go")
    parser.add_argument("--watch", type=float, default=2.0, help="seconds to listen to the trajectories")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for the node")
    parser.set_defaults(handler=run_send)


def run_send(args: argparse.Namespace) -> int:
    """Handler of ``motionlcm send``."""
    for name in ("duration", "watch", "timeout"):
        value = getattr(args, name)
        if not (math.isfinite(value) and value >= 0):
            raise MotionLCMError(f"--{name} must be a non-negative number of seconds, got {value}")
    try:
        from motionlcm_node.ros.client import NodeClient
    except ImportError as error:
        raise MotionLCMError(f"send needs the ROS 2 setup (scripts/setup_ros.sh): {error}") from None
    with NodeClient(args.node, args.trajectory_topic) as client:
        if not client.wait_for_node(args.timeout):
            print(f"no node {args.node} heard in {args.timeout:g} s: is it running on this ROS_DOMAIN_ID?")
            return 1
        outcome = client.send(args.text, args.duration, args.after_current)
        if outcome.accepted is False:
            print(f"refused: {outcome.message}")
            return 2
        if outcome.accepted is None:
            print(f"sent as {outcome.command_id}, but the node's status did not confirm it (last: {outcome.message!r})")
            return 1
        print(f"accepted as {outcome.command_id}: first trajectory {outcome.latency_ms:.0f} ms after the node got it")
        if outcome.message:
            print(outcome.message)
        summary = client.watch(args.watch)
    if summary.messages:
        low, high = summary.position_range
        finite = "finite" if summary.finite else "NOT FINITE"
        print(f"{summary.messages} trajectories in {args.watch:g} s on {args.trajectory_topic}: "
              f"{len(summary.joint_names)} joints, {summary.points[-1]} points reaching {summary.horizon_s:.2f} s "
              f"ahead, positions {finite} in [{low:.2f}, {high:.2f}] rad")  # fmt: skip
    elif args.watch > 0:
        print(f"no trajectory heard on {args.trajectory_topic} in {args.watch:g} s")
    return 0
