"""The motion format every model reads and writes: 20 fps, SMPL-22 joints, HumanML3D's 263-d features.

Constants only (no numpy, no torch), so the inference path can import them for free. The feature
layout per frame (metres and radians, Y up; ``features.py`` computes them, ``recovery.py`` inverts
them):

====== ===========================================================================================
dims   content
====== ===========================================================================================
0      root yaw velocity as a half angle (true yaw = 2 x cumulative sum)
1:3    root XZ velocity in the facing frame of the next frame
3      root height
4:67   joints 1..21 relative to the root (XZ centred on the root, facing +Z), absolute Y
67:193 6D local rotations of joints 1..21
193:259 velocities of all 22 joints in the facing frame of the frame
259:263 foot contacts (left ankle, left toe, right ankle, right toe), 1 = planted
====== ===========================================================================================
"""

#: Frames per second of every motion (data, models, outputs).
FPS = 20.0
#: Joints of the SMPL-22 skeleton (``smpl.JOINT_NAMES``).
NUM_JOINTS = 22
FEATURE_DIM = 263
ROOT_YAW_VELOCITY = slice(0, 1)
ROOT_LINEAR_VELOCITY = slice(1, 3)
ROOT_HEIGHT = slice(3, 4)
#: The whole root block: yaw velocity, XZ velocity and height.
ROOT_FEATURES = slice(ROOT_YAW_VELOCITY.start, ROOT_HEIGHT.stop)
LOCAL_POSITIONS = slice(4, 67)
LOCAL_ROTATIONS = slice(67, 193)
LOCAL_VELOCITIES = slice(193, 259)
FOOT_CONTACTS = slice(259, 263)
