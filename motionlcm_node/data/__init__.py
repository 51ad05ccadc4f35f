"""Motion data: BVH import, SMPL-22 joints, HumanML3D features, captions, splits, the loader and pictures."""
