# Stock ST-GCN++ (joint) on the embedded synthetic Gym-format set, trained and
# tested on clean sequences (no missing frames): the upper bound, and the
# classifier behind which tools/analysis/completion_benchmark.py puts each
# restoration.
_base_ = 'stgcnpp_1xb32-joint-u48-15e_gymsynth-keypoint-2d.py'

# the root's pipelines without TemporalCorruption
train_pipeline = [
    t for t in _base_.train_pipeline if t['type'] != 'TemporalCorruption'
]
val_pipeline = [
    t for t in _base_.val_pipeline if t['type'] != 'TemporalCorruption'
]
test_pipeline = [
    t for t in _base_.test_pipeline if t['type'] != 'TemporalCorruption'
]
train_dataloader = dict(dataset=dict(dataset=dict(pipeline=train_pipeline)))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
