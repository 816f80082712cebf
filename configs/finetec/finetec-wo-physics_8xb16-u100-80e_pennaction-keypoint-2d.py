# Ablation: FineTec on Penn Action without ③ physics-driven acceleration (no
# neck, no acceleration stream in the backbone).
_base_ = 'finetec_8xb16-u100-80e_pennaction-keypoint-2d.py'

model = dict(neck=None, backbone=dict(acc_fusion='none'))
