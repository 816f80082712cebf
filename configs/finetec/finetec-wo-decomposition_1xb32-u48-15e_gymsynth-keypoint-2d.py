# Ablation: FineTec on the embedded synthetic Gym-format set without ② spatial
# decomposition.
_base_ = 'finetec_1xb32-u48-15e_gymsynth-keypoint-2d.py'

model = dict(decomposition=None)
