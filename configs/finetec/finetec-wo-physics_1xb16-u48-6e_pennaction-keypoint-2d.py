# Ablation: FineTec on Penn Action (CPU schedule) without ③ physics-driven
# acceleration (no neck, no acceleration stream in the backbone).
_base_ = 'finetec-paper_1xb16-u48-6e_pennaction-keypoint-2d.py'

model = dict(neck=None, backbone=dict(acc_fusion='none'))
