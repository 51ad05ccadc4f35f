"""ROS 2 lifecycle node ``motion_generator``: text commands and waypoints in, joint trajectories out.

A thin shell over :class:`motionlcm_node.commands.session.CommandSession` and the parts in
``motionlcm_node.ros`` (the only module of the package that imports ``rclpy.node``). Subscribes
``~/command``, ``~/motion_command``, ``~/waypoints``, ``~/pelvis_path``, ``~/hand_target`` and
``joint_states``; publishes ``joint_trajectory``, ``~/human_skeleton``, ``~/status``, ``/diagnostics``
(and, optionally, ``~/commanded_joint_states`` and ``/tf``); serves ``~/generate_motion``. Types,
timing and parameters: docs/ros.md. Models load in ``on_configure``; nothing is published unless the
node is active. With ``autostart`` (the default) ``main`` configures and activates it, as nav2's
lifecycle manager would.
"""

from __future__ import annotations

import threading
import time

import rclpy
from rclpy.action import ActionServer, CancelResponse, GoalResponse
from rclpy.callback_groups import MutuallyExclusiveCallbackGroup, ReentrantCallbackGroup
from rclpy.executors import ExternalShutdownException, MultiThreadedExecutor
from rclpy.lifecycle import LifecycleNode, LifecycleState, TransitionCallbackReturn

from motionlcm_node.ros import parameters
from motionlcm_node.ros.status import ERROR, StatusBoard

NODE_NAME = "motion_generator"
COMMAND_QUEUE_DEPTH = 100


class MotionGeneratorNode(LifecycleNode):
    """The motion generator (see the module docstring); declares every parameter of ``ros.parameters``."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(NODE_NAME, **kwargs)
        for spec in parameters.SPECS:
            self.declare_parameter(spec.name, spec.default, spec.descriptor())
        self.add_on_set_parameters_callback(self._check_parameters)
        self.status = StatusBoard()
        self.session = self.planner = self.recorder = self.worker = self.outputs = None
        self.active = False
        self._said_no_tf = False
        self.epoch = 0.0
        self._entities: list[object] = []
        self._timers: list[object] = []
        self.inputs_group = MutuallyExclusiveCallbackGroup()
        self.output_group = MutuallyExclusiveCallbackGroup()
        self.action_group = ReentrantCallbackGroup()
        from diagnostic_msgs.msg import DiagnosticArray
        from motionlcm_msgs.msg import GeneratorStatus

        self.status_publisher = self.create_publisher(GeneratorStatus, "~/status", 10)
        self.diagnostics_publisher = self.create_publisher(DiagnosticArray, "/diagnostics", 10)
        self.status_timer = self.create_timer(1.0, self._publish_status, callback_group=self.output_group)

    # -- parameters ---------------------------------------------------------------------------------
    def parameter(self, name: str) -> object:
        """The current value of one of this node's parameters."""
        return self.get_parameter(name).value

    def _check_parameters(self, changes: list[object]) -> object:
        from rcl_interfaces.msg import SetParametersResult

        for change in changes:
            reason = parameters.check(change.name, change.value)
            if reason is not None:
                self.status.warn(f"parameter refused: {reason}")
                return SetParametersResult(successful=False, reason=reason)
        if self.planner is not None and self.session is not None:
            parameters.apply({change.name: change.value for change in changes}, self.planner, self.session)
        return SetParametersResult(successful=True)

    @property
    def published_count(self) -> int:
        """Trajectory messages published since configuration."""
        return 0 if self.outputs is None else self.outputs.published

    def now(self) -> float:
        """The node's clock (ROS time; simulated with ``use_sim_time``), seconds."""
        return self.get_clock().now().nanoseconds * 1e-9

    def session_time(self) -> float:
        """Seconds since ``epoch`` (the session's clock: plans keep sub-microsecond precision on it)."""
        return self.now() - self.epoch

    # -- lifecycle ----------------------------------------------------------------------------------
    def on_configure(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Load the models and the robot, create the interfaces, start the worker."""
        from motionlcm_node.commands.requests import Command
        from motionlcm_node.commands.session import CommandSession

        self.status.update(state="configuring")
        try:
            self.planner = parameters.planner_from(self.parameter)
            # First-call costs (sessions specialising to a shape, retargeting's first solve) are paid here.
            warm_up = Command("warm-up", "a person walks forward", float(self.parameter("default_duration")))
            for _ in range(2):
                self.planner.plan(warm_up, 0.0, self.planner.rest_pose())
            self.epoch = float(int(self.now()))
            self.session = CommandSession(
                self.planner,
                self.session_time,
                float(self.parameter("switch_delay")),
                str(self.parameter("idle_behavior")),
                float(self.parameter("lookahead")) + 0.5,
            )
            self._open_recorder()
        except Exception as error:
            self.get_logger().error(f"configuration failed: {error}")
            self.status.update(state="unconfigured", level=ERROR, message=f"configuration failed: {error}")
            self.planner = self.session = None
            return TransitionCallbackReturn.FAILURE
        self._create_interfaces()
        self.worker = threading.Thread(target=self._work, name="motion_generator_worker", daemon=True)
        self.worker.start()
        self.status.update(state="inactive")
        self.get_logger().info(
            f"configured: robot {self.parameter('robot')}, {len(self.planner.joint_names)} joints, "
            f"{self.planner.settings.rate:g} Hz"
        )
        return super().on_configure(state)

    def _open_recorder(self) -> None:
        path = str(self.parameter("record_path"))
        if path:
            from motionlcm_node.ros.recording import BagRecorder

            self.recorder = BagRecorder(path)
            self.get_logger().info(f"recording to {self.recorder.path}")

    def _create_interfaces(self) -> None:
        from geometry_msgs.msg import PointStamped
        from motionlcm_msgs.action import GenerateMotion
        from motionlcm_msgs.msg import MotionCommand, Waypoints
        from nav_msgs.msg import Path
        from sensor_msgs.msg import JointState
        from std_msgs.msg import String

        from motionlcm_node.ros.description import root_link
        from motionlcm_node.ros.inputs import InputContext, InputHandlers
        from motionlcm_node.ros.outputs import OutputPublishers

        base_link = root_link(self.planner.robot.config.urdf.read_text(encoding="utf-8"))
        record = None if self.recorder is None else self._record
        self.outputs = OutputPublishers(self, self.planner.joint_names, base_link, record)
        context = InputContext(
            self.session,
            self.status,
            self.parameter,
            self.session_time,
            self.epoch,
            lambda: self.active,
            lambda message: self.get_logger().warning(message, throttle_duration_sec=1.0),
            self._record,
            self.planner.frame_names,
            self.planner.joint_names,
        )
        self.inputs = InputHandlers(context)
        # Commands queue deep enough for a second of a 100 Hz flood (the newest wins; none is lost to the
        # queue while the executor catches up); joint states only matter when fresh.
        for message_type, topic, callback, depth in (
            (String, "~/command", self.inputs.on_text, COMMAND_QUEUE_DEPTH),
            (MotionCommand, "~/motion_command", self.inputs.on_motion_command, COMMAND_QUEUE_DEPTH),
            (Waypoints, "~/waypoints", self.inputs.on_waypoints, COMMAND_QUEUE_DEPTH),
            (Path, "~/pelvis_path", self.inputs.on_pelvis_path, COMMAND_QUEUE_DEPTH),
            (PointStamped, "~/hand_target", self.inputs.on_hand_target, COMMAND_QUEUE_DEPTH),
            (JointState, "joint_states", self.inputs.on_joint_state, 5),
        ):
            subscription = self.create_subscription(
                message_type, topic, callback, depth, raw=True, callback_group=self.inputs_group
            )
            self._entities.append(subscription)
        self.action_server = ActionServer(
            self,
            GenerateMotion,
            "~/generate_motion",
            self._execute_goal,
            goal_callback=lambda goal: GoalResponse.ACCEPT,
            cancel_callback=lambda handle: CancelResponse.ACCEPT,
            callback_group=self.action_group,
        )

    def on_activate(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Start publishing trajectories."""
        self.active = True
        self.status.update(state="active")
        self.status.ok("active")
        period = float(self.parameter("publish_period"))
        self._timers.append(self.create_timer(period, self._publish_outputs, callback_group=self.output_group))
        self._publish_status()
        return super().on_activate(state)

    def on_deactivate(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Stop publishing; the running motion and the queue are dropped (the controller holds its last point)."""
        self.active = False
        while self._timers:
            self.destroy_timer(self._timers.pop())
        if self.session is not None:
            self.session.clear()
        self.status.update(state="inactive", command_id="", command_text="")
        self._publish_status()
        return super().on_deactivate(state)

    def on_cleanup(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Release the models and the interfaces."""
        self._release()
        self.status.update(state="unconfigured")
        return super().on_cleanup(state)

    def on_shutdown(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Release everything (from any state)."""
        self.active = False
        self._release()
        self.status.update(state="finalized")
        return super().on_shutdown(state)

    def _release(self) -> None:
        if self.session is not None:
            self.session.stop()
        if self.worker is not None:
            self.worker.join(timeout=5.0)
        for timer in self._timers:
            self.destroy_timer(timer)
        for subscription in self._entities:
            self.destroy_subscription(subscription)
        if getattr(self, "action_server", None) is not None:
            self.action_server.destroy()
            self.action_server = None
        if self.outputs is not None:
            self.outputs.destroy()
            self.outputs = None
        if self.recorder is not None:
            self.recorder.close()
        self._timers, self._entities = [], []
        self.session = self.planner = self.recorder = self.worker = None

    # -- work ---------------------------------------------------------------------------------------
    def _work(self) -> None:
        """The worker thread: generate the next due command; publish its first window as soon as it exists."""
        session = self.session
        while session.wait_for_work(0.05):
            try:
                outcome = session.run_next(on_plan=self._announce)
            except Exception as error:
                self.status.warn(f"generation failed: {error}")
                continue
            if outcome is None:
                continue
            if outcome.error is not None:
                self.status.warn(f"command {outcome.command.command_id!r} failed: {outcome.error}")
                self.get_logger().warning(str(outcome.error))
            elif outcome.notes:
                self.status.warn(outcome.notes[0])
            self._publish_status()

    def _announce(self, command: object) -> None:
        """A new plan is in: publish its first window now and report the latency."""
        stamp = self._publish_trajectory()
        latency = 1000 * (time.monotonic() - command.received) if command.received else 0.0
        self.session.stats.last_latency_ms = latency
        self.status.update(command_id=command.command_id, command_text=command.text, trajectory_stamp=stamp or 0.0)
        budget = 1000 * float(self.parameter("latency_budget"))
        if latency > budget:
            self.status.warn(f"command took {latency:.0f} ms to its first trajectory (budget {budget:.0f} ms)")
        else:
            self.status.ok(getattr(command, "understood", ""))

    def _record(self, topic: str, msgtype: str, data: bytes) -> None:
        """Write a message to the recording under its resolved name (expanded and remapped, as on the wire)."""
        if self.recorder is not None:
            self.recorder.write(self.resolve_topic_name(topic), msgtype, data, self.get_clock().now().nanoseconds)

    def _publish_trajectory(self) -> float | None:
        """Publish the plan from now over the look-ahead; returns the message's stamp (None when idle)."""
        if not self.active or self.session is None or self.outputs is None:
            return None
        window = self.session.window(self.session_time(), float(self.parameter("lookahead")))
        return None if window is None else self.outputs.publish_window(window, self.epoch)

    def _publish_outputs(self) -> None:
        """Timer: the trajectory window, the skeleton and (optionally) the commanded state and base transform."""
        try:
            if self._publish_trajectory() is None:
                return
            now, frame = self.session_time(), str(self.parameter("world_frame"))
            pose = self.session.human_pose(now)
            if pose is not None:
                self.outputs.publish_skeleton(pose, frame, now + self.epoch)
            state = self.session.commanded_state(now)
            if bool(self.parameter("publish_joint_states")) and state is not None:
                sent = self.outputs.publish_state(state, self.session.base_pose(now), frame, now + self.epoch)
                if not sent and not self._said_no_tf:
                    self._said_no_tf = True
                    self.get_logger().info("tf2_msgs is not installed: the base transform is not broadcast on /tf")
        except Exception as error:
            self.status.warn(f"publishing failed: {error}")

    def _publish_status(self) -> None:
        from motionlcm_node.commands.session import SessionStats

        now, session = self.now(), self.session
        queued = [] if session is None else session.queued
        stats = SessionStats() if session is None else session.stats
        lookahead = 0.0 if session is None else session.lookahead(self.session_time())
        message = self.status.status_message(
            stats, len(queued), sum(c.duration for c in queued), lookahead, self.published_count, now
        )
        self.status_publisher.publish(message)
        self.diagnostics_publisher.publish(self.status.diagnostics(stats, self.published_count, now))

    def _execute_goal(self, goal_handle: object) -> object:
        from motionlcm_node.ros.action import execute_goal

        return execute_goal(
            goal_handle, self.planner, self.session, self.parameter, lambda: self.active, self.session_time
        )


def main(args: list[str] | None = None) -> None:
    """Run the node until interrupted: the ``motion_generator`` executable (``ros2 run motionlcm_node ...``)."""
    rclpy.init(args=args)
    node: MotionGeneratorNode | None = None
    try:
        node = MotionGeneratorNode()
        if node.parameter("autostart") and node.trigger_configure() == TransitionCallbackReturn.SUCCESS:
            node.trigger_activate()
        executor = MultiThreadedExecutor(num_threads=4)
        executor.add_node(node)
        executor.spin()
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        if node is not None:
            node.active = False
            node._release()
            node.destroy_node()
        rclpy.try_shutdown()


__all__ = ["MotionGeneratorNode", "main"]


if __name__ == "__main__":
    main()
