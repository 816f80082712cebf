# Ablation: FineTec on Penn Action (CPU schedule) without ① completion: the
# GCN, ② and ③ see zero-filled frames.
_base_ = 'finetec-paper_1xb16-u48-6e_pennaction-keypoint-2d.py'

model = dict(completion=None, completion_checkpoint=None)
