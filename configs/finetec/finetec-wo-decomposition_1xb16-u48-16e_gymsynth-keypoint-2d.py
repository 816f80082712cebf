# Ablation: FineTec on the embedded synthetic Gym-format set without ② spatial
# decomposition.
_base_ = 'finetec_1xb16-u48-16e_gymsynth-keypoint-2d.py'

model = dict(decomposition=None)
