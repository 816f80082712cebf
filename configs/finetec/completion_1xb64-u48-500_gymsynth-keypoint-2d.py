# FineTec stage 1 on the embedded synthetic Gym-format set: pre-train ①
# (context-aware completion) alone on clean training clips with mixed
# corruption; validation reports MPJPE / N-MPJPE / MPJVE over the missing
# frames (50 % random drop) beside the zero / nearest / linear / Akima fills.
# Stage 2 (finetec_1xb32-u48-15e_gymsynth-keypoint-2d.py) loads its work dir.
_base_ = 'mmaction::_base_/default_runtime.py'

custom_imports = dict(imports=['finetec_mmaction'], allow_failed_imports=False)
# log a digest of the corrupted val / test set before each epoch (equal
# digests: scored on the same missing frames); refuse a load_from / resume
# checkpoint of another class count or skeleton layout
custom_hooks = [
    dict(type='CorruptionDigestHook'),
    dict(type='CheckpointCompatibilityHook')
]

model = dict(
    type='CompletionPretrainer',
    completion=dict(
        type='ContextAwareCompletion',
        num_joints=17,
        num_channels=3,
        coord_channels=2,
        clip_len=48,
        # prompt bank: clean training sequences, cached after the first run
        bank=dict(
            ann_file='data/synthetic/gym_synthetic.pkl',
            split='train',
            max_size=2048,
            cache='work_dirs/banks/gymsynth_train_u48.npz')))

dataset_type = 'SafePoseDataset'
ann_file = 'data/synthetic/gym_synthetic.pkl'
num_classes = 12
clip_len = 48
# training: a ratio in [0.2, 0.8] and a strategy drawn per sample; the clean
# sequence is kept as the target (keep_clean)
train_corruption = dict(
    type='TemporalCorruption', ratio=(0.2, 0.8), strategy='mixed',
    keep_clean=True)
# validation: 50 % missing at random, masks seeded by (seed, frame_dir)
test_corruption = dict(
    type='TemporalCorruption', ratio='moderate', strategy='random',
    test_mode=True, seed=0, keep_clean=True)
train_pipeline = [
    dict(type='PreNormalize2D'),
    train_corruption,  # after normalising: it would move the zeros
    dict(type='GenSkeFeat', dataset='coco', feats=['j']),
    dict(type='UniformSampleFrames', clip_len=clip_len),
    dict(type='PoseDecode'),
    dict(type='FormatGCNInput', num_person=1),
    dict(type='FormatCorruptionTargets', num_person=1),
    dict(type='PackActionInputs',
         algorithm_keys=('frame_valid', 'keypoint_clean'),
         meta_keys=('frame_dir', 'corrupt_ratio', 'corrupt_strategy'))
]
val_pipeline = [
    dict(type='PreNormalize2D'),
    test_corruption,
    dict(type='GenSkeFeat', dataset='coco', feats=['j']),
    dict(
        type='UniformSampleFrames', clip_len=clip_len, num_clips=1,
        test_mode=True),
    dict(type='PoseDecode'),
    dict(type='FormatGCNInput', num_person=1),
    dict(type='FormatCorruptionTargets', num_person=1),
    dict(type='PackActionInputs',
         algorithm_keys=('frame_valid', 'keypoint_clean'),
         meta_keys=('frame_dir', 'corrupt_ratio', 'corrupt_strategy'))
]
test_pipeline = [
    dict(type='PreNormalize2D'),
    test_corruption,
    dict(type='GenSkeFeat', dataset='coco', feats=['j']),
    dict(
        type='UniformSampleFrames', clip_len=clip_len, num_clips=1,
        test_mode=True),
    dict(type='PoseDecode'),
    dict(type='FormatGCNInput', num_person=1),
    dict(type='FormatCorruptionTargets', num_person=1),
    dict(type='PackActionInputs',
         algorithm_keys=('frame_valid', 'keypoint_clean'),
         meta_keys=('frame_dir', 'corrupt_ratio', 'corrupt_strategy'))
]

train_dataloader = dict(
    batch_size=64,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type='RepeatDataset',
        times=1,
        dataset=dict(
            type=dataset_type,
            ann_file=ann_file,
            num_classes=num_classes,
            pipeline=train_pipeline,
            split='train')))
val_dataloader = dict(
    batch_size=64,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        ann_file=ann_file,
        num_classes=num_classes,
        pipeline=val_pipeline,
        split='test',
        test_mode=True))
test_dataloader = dict(
    batch_size=1,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        ann_file=ann_file,
        num_classes=num_classes,
        pipeline=test_pipeline,
        split='test',
        test_mode=True))

val_evaluator = dict(
    type='CompletionMetric',
    coord_channels=2,
    joints=None,
    baselines=('zero', 'nearest', 'linear', 'akima'))
test_evaluator = val_evaluator

train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=500, val_interval=100)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(optimizer=dict(type='Adam', lr=1e-3))
param_scheduler = [
    dict(type='CosineAnnealingLR', eta_min=1e-5, T_max=500, by_epoch=False)
]
default_hooks = dict(
    logger=dict(interval=50),
    checkpoint=dict(
        by_epoch=False, interval=100, max_keep_ckpts=2,
        save_best='completion/mpjpe', rule='less'))
log_processor = dict(by_epoch=False)
vis_backends = [
    dict(type='LocalVisBackend'),
    dict(type='TensorboardVisBackend')
]
visualizer = dict(type='ActionVisualizer', vis_backends=vis_backends)
