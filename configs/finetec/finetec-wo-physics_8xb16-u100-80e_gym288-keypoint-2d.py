# Ablation: FineTec on FineGym-288 without ③ physics-driven acceleration (no
# neck, no acceleration stream in the backbone).
_base_ = 'finetec_8xb16-u100-80e_gym288-keypoint-2d.py'

model = dict(neck=None, backbone=dict(acc_fusion='none'))
