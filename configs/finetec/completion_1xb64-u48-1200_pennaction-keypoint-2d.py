# FineTec stage 1 on Penn Action sized for a 2-core CPU: clips of 48 frames
# (the median video has 56), 1,200 iterations, one loader worker. Stage 2:
# finetec_1xb16-u48-6e_pennaction-keypoint-2d.py.
_base_ = 'completion_1xb64-u100-20k_pennaction-keypoint-2d.py'

clip_len = 48
model = dict(
    completion=dict(
        clip_len=clip_len,
        bank=dict(cache='work_dirs/banks/pennaction_train_u48.npz')))
train_pipeline = [
    dict(t, clip_len=clip_len) if t['type'] == 'UniformSampleFrames' else t
    for t in _base_.train_pipeline
]
val_pipeline = [
    dict(t, clip_len=clip_len) if t['type'] == 'UniformSampleFrames' else t
    for t in _base_.val_pipeline
]
test_pipeline = [
    dict(t, clip_len=clip_len) if t['type'] == 'UniformSampleFrames' else t
    for t in _base_.test_pipeline
]
train_dataloader = dict(
    num_workers=1,
    dataset=dict(times=1, dataset=dict(pipeline=train_pipeline)))
val_dataloader = dict(num_workers=1, dataset=dict(pipeline=val_pipeline))
test_dataloader = dict(num_workers=1, dataset=dict(pipeline=test_pipeline))
train_cfg = dict(max_iters=1200, val_interval=120)
param_scheduler = [
    dict(type='CosineAnnealingLR', eta_min=1e-5, T_max=1200, by_epoch=False)
]
default_hooks = dict(checkpoint=dict(interval=120))
