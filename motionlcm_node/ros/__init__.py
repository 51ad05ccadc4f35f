"""ROS 2 plumbing of the node: parameters, message conversions, input handlers, the action, status, recording.

Nothing here imports ``rclpy.node``; ``motionlcm_node.node`` wires these parts into the lifecycle node.
"""
