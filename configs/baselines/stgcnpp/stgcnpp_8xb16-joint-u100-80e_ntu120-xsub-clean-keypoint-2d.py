# Stock ST-GCN++ (joint) on NTU RGB+D 120 (cross-subject, 2D HRNet), trained
# and tested on clean sequences (no missing frames): the upper bound, and the
# classifier behind which tools/analysis/completion_benchmark.py puts each
# restoration.
_base_ = 'stgcnpp_8xb16-joint-u100-80e_ntu120-xsub-keypoint-2d.py'

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
