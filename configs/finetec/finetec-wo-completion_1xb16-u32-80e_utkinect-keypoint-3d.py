# Ablation: FineTec on UTKinect without ① (the missing frames stay zero).
_base_ = 'finetec-paper_1xb16-u32-80e_utkinect-keypoint-3d.py'

model = dict(completion=None, completion_checkpoint=None)
