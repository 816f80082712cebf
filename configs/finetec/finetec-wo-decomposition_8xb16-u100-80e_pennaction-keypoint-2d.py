# Ablation: FineTec on Penn Action without ② spatial decomposition.
_base_ = 'finetec_8xb16-u100-80e_pennaction-keypoint-2d.py'

model = dict(decomposition=None)
