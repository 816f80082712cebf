# Module ③ alone: the physics-driven acceleration neck in front of a stock
# ST-GCN++ (joint) on the embedded synthetic Gym-format set; its accelerations
# (x, y) are appended to the (x, y, score) input channels. Data and schedule as
# in the baseline.
_base_ = '../baselines/stgcnpp/stgcnpp_1xb32-joint-u48-15e_gymsynth-keypoint-2d.py'

model = dict(
    type='RecognizerFineTec',
    neck=dict(
        type='PhysicsAccelerationNeck',
        num_joints=17,
        num_coords=2,
        num_streams=1,
        loss_weight=0.1),
    backbone=dict(in_channels=5))
