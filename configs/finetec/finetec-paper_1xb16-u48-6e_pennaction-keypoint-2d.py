# The paper's FineTec (① + ② + ③) on Penn Action, CPU schedule: the root
# with ② spatial decomposition back on, as ../_base_/models/finetec_coco2d.py
# defines it. The ablations below are relative to this config.
_base_ = 'finetec_1xb16-u48-6e_pennaction-keypoint-2d.py'

model = dict(
    decomposition=dict(
        _delete_=True,  # the root's None
        type='SpatialDecomposition',
        in_channels=3,
        layout='coco',
        test_perturb='seeded',
        fusion=dict(type='CrossAttentionFusion')))
