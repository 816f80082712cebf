# Ablation: FineTec on UTKinect without ② (spatial decomposition) and ③
# (no acceleration stream): ① in front of the FineTec GCN's positions.
_base_ = 'finetec-paper_1xb16-u32-80e_utkinect-keypoint-3d.py'

model = dict(decomposition=None, neck=None, backbone=dict(acc_fusion='none'))
