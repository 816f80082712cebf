# Ablation: FineTec on FineGym-288 without ② spatial decomposition.
_base_ = 'finetec_8xb16-u100-80e_gym288-keypoint-2d.py'

model = dict(decomposition=None)
