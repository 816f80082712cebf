# Ablation: FineTec on UTKinect without ③ (no acceleration stream).
_base_ = 'finetec-paper_1xb16-u32-80e_utkinect-keypoint-3d.py'

model = dict(neck=None, backbone=dict(acc_fusion='none'))
