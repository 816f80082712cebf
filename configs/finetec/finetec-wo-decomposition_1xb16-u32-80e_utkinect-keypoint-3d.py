# Ablation: FineTec on UTKinect without ② (S_pred = S_base, no variants).
_base_ = 'finetec-paper_1xb16-u32-80e_utkinect-keypoint-3d.py'

model = dict(decomposition=None)
