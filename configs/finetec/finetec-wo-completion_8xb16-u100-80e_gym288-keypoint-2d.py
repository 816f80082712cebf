# Ablation: FineTec on FineGym-288 without ① completion: the GCN, ② and ③ see
# zero-filled frames.
_base_ = 'finetec_8xb16-u100-80e_gym288-keypoint-2d.py'

model = dict(completion=None, completion_checkpoint=None)
