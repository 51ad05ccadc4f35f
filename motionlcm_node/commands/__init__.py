"""Motion commands without ROS: validation, planning onto the robot, the running session and its messages.

The ROS 2 node (``motionlcm_node.node``) is a thin shell over :class:`session.CommandSession`.
"""
