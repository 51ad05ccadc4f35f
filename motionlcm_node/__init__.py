"""motionlcm_node: real-time text- and waypoint-driven humanoid motion for ROS 2.

Subpackages: ``data`` (BVH import, HumanML3D features, captions, splits, loader, pictures) and
``cli`` (the ``motionlcm`` command). Only ``motionlcm_node.node`` imports ``rclpy.node``.
"""

__version__ = "0.1.0"
