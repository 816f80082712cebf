# Stock ST-GCN++ on FineGym-99, bone stream: GenSkeFeat turns joints into bones
# (joint minus parent), as MMAction2's stgcnpp_8xb16-bone-* configs do.
_base_ = 'stgcnpp_8xb16-joint-u100-80e_gym99-keypoint-2d.py'

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
