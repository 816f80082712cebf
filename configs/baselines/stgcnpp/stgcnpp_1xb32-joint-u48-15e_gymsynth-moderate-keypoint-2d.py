# Stock ST-GCN++ (joint) on the embedded synthetic Gym-format set, the paper's
# protocol at moderate frame loss: 50 % of the frames of every sequence missing
# at random, in training and in test.
_base_ = 'stgcnpp_1xb32-joint-u48-15e_gymsynth-keypoint-2d.py'

level = dict(ratio='moderate', strategy='random')
# the root's pipelines, their TemporalCorruption set to this level
train_pipeline = [
    dict(t, **level) if t['type'] == 'TemporalCorruption' else t
    for t in _base_.train_pipeline
]
val_pipeline = [
    dict(t, **level) if t['type'] == 'TemporalCorruption' else t
    for t in _base_.val_pipeline
]
test_pipeline = [
    dict(t, **level) if t['type'] == 'TemporalCorruption' else t
    for t in _base_.test_pipeline
]
train_dataloader = dict(dataset=dict(dataset=dict(pipeline=train_pipeline)))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
