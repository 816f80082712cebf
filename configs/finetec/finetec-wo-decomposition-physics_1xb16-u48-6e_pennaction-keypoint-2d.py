# Ablation: FineTec on Penn Action (CPU schedule) without ② spatial
# decomposition and without ③ physics-driven acceleration: ① in front of
# the position stream of the FineTec GCN.
_base_ = 'finetec-paper_1xb16-u48-6e_pennaction-keypoint-2d.py'

model = dict(decomposition=None, neck=None, backbone=dict(acc_fusion='none'))
