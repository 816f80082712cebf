# Ablation: FineTec on Penn Action (CPU schedule) without ② spatial
# decomposition.
_base_ = 'finetec-paper_1xb16-u48-6e_pennaction-keypoint-2d.py'

model = dict(decomposition=None)
