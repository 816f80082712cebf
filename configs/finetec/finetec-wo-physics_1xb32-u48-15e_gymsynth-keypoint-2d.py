# Ablation: FineTec on the embedded synthetic Gym-format set without ③
# physics-driven acceleration (no neck, no acceleration stream in the
# backbone).
_base_ = 'finetec_1xb32-u48-15e_gymsynth-keypoint-2d.py'

model = dict(neck=None, backbone=dict(acc_fusion='none'))
