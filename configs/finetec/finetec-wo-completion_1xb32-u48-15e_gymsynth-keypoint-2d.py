# Ablation: FineTec on the embedded synthetic Gym-format set without ①
# completion: the GCN, ② and ③ see zero-filled frames.
_base_ = 'finetec_1xb32-u48-15e_gymsynth-keypoint-2d.py'

model = dict(completion=None, completion_checkpoint=None)
