# Stock ST-GCN++ on the embedded synthetic Gym-format set, bone stream:
# GenSkeFeat turns joints into bones (joint minus parent), as MMAction2's
# stgcnpp_8xb16-bone-* configs do.
_base_ = 'stgcnpp_1xb32-joint-u48-15e_gymsynth-keypoint-2d.py'

train_pipeline = [
    dict(t, feats=['b']) if t['type'] == 'GenSkeFeat' else t
    for t in _base_.train_pipeline
]
val_pipeline = [
    dict(t, feats=['b']) if t['type'] == 'GenSkeFeat' else t
    for t in _base_.val_pipeline
]
test_pipeline = [
    dict(t, feats=['b']) if t['type'] == 'GenSkeFeat' else t
    for t in _base_.test_pipeline
]
train_dataloader = dict(dataset=dict(dataset=dict(pipeline=train_pipeline)))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
