# The paper's FineTec (① + ② + ③) on UTKinect: the root with ② spatial
# decomposition back on. The ablations below are relative to this config.
_base_ = 'finetec_1xb16-u32-80e_utkinect-keypoint-3d.py'

model = dict(
    decomposition=dict(
        _delete_=True,  # the root's None
        type='SpatialDecomposition',
        in_channels=3,
        layout='kinect-v1',  # a name only: regions and flip_index are given
        regions=_base_.kinect_regions,
        num_coords=3,
        flip_index=_base_.kinect_flip_index,
        test_perturb='seeded',
        fusion=dict(type='CrossAttentionFusion')))
