# Stock ST-GCN++ (joint) on the embedded synthetic Gym-format set: the missing
# frames linearly interpolated from the nearest observed frames before the GCN
# sees them, the classical restoration FineTec is compared with.
_base_ = 'stgcnpp_1xb32-joint-u48-15e_gymsynth-keypoint-2d.py'

fill = dict(type='InterpolateMissingFrames')
# the root's pipelines with the fill right after TemporalCorruption (index 1,
# after the normalisation)
train_pipeline = _base_.train_pipeline[:2] + [fill] + _base_.train_pipeline[2:]
val_pipeline = _base_.val_pipeline[:2] + [fill] + _base_.val_pipeline[2:]
test_pipeline = _base_.test_pipeline[:2] + [fill] + _base_.test_pipeline[2:]
train_dataloader = dict(dataset=dict(dataset=dict(pipeline=train_pipeline)))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
