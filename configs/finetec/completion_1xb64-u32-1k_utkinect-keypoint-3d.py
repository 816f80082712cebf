# FineTec stage 1 on UTKinect-Action3D: pre-train ① (context-aware
# completion) alone on clean training clips with mixed corruption; validation
# reports MPJPE / N-MPJPE / MPJVE (in the metres of PreNormalize3D) over the
# missing frames (50 % random drop) beside the zero / nearest / linear /
# Akima fills. Stage 2 loads its work dir:
#   finetec_1xb16-u32-80e_utkinect-keypoint-3d.py
# UTKinect-Action3D: real Kinect v1 skeletons (3D, metres, no keypoint
# score), 10 actions, 100 training / 99 test segments (a cross-subject split
# of data/utkinect/README.md). Sized for a CPU: clips of 32 frames, 16
# epochs over the training split repeated 5 times, one loader worker.
_base_ = 'mmaction::_base_/default_runtime.py'

custom_imports = dict(imports=['finetec_mmaction'], allow_failed_imports=False)
# log a digest of the corrupted val / test set before each epoch (equal
# digests: scored on the same missing frames); refuse a load_from / resume
# checkpoint of another class count or skeleton layout
custom_hooks = [
    dict(type='CorruptionDigestHook'),
    dict(type='CheckpointCompatibilityHook')
]

dataset_type = 'SafePoseDataset'
ann_file = 'data/utkinect/utkinect_3d.pkl'
num_classes = 10
clip_len = 32  # the median segment has 28 frames; shorter ones loop

model = dict(
    type='CompletionPretrainer',
    completion=dict(
        type='ContextAwareCompletion',
        num_joints=20,
        num_channels=3,
        coord_channels=3,
        clip_len=clip_len,
        # prompt bank: the 100 clean training sequences (a very small bank),
        # normalised like the input (PreNormalize3D), cached on the first run
        bank=dict(
            ann_file=ann_file,
            split='train',
            normalize='3d',
            max_size=2048,
            cache='work_dirs/banks/utkinect_train_u32.npz')))

# training: a ratio in [0.2, 0.8] and a strategy drawn per sample; the clean
# sequence is kept as the target (keep_clean)
train_corruption = dict(
    type='TemporalCorruption', ratio=(0.2, 0.8), strategy='mixed',
    keep_clean=True)
# validation: 50 % missing at random, masks seeded by (seed, frame_dir)
test_corruption = dict(
    type='TemporalCorruption', ratio='moderate', strategy='random',
    test_mode=True, seed=0, keep_clean=True)
# PreNormalize3D with its defaults (z axis hip centre -> spine, x axis right
# -> left shoulder) fits the Kinect v1 order. zaxis=[0, 2] would be steadier
# (the hip-spine bone is ~7 cm), but FineTec's skeleton bank normalises with
# the defaults, so every UTKinect config keeps them. PreNormalize3D drops
# all-zero frames: TemporalCorruption must come after it. GenSkeFeat passes
# the joints on (its layout name only matters for bones, which would need a
# bone table of this layout).
train_pipeline = [
    dict(type='PreNormalize3D'),
    train_corruption,  # after normalising: it would drop the zeros
    dict(type='GenSkeFeat', dataset='nturgb+d', feats=['j']),
    dict(type='UniformSampleFrames', clip_len=clip_len),
    dict(type='PoseDecode'),
    dict(type='FormatGCNInput', num_person=1),
    dict(type='FormatCorruptionTargets', num_person=1),
    dict(type='PackActionInputs',
         algorithm_keys=('frame_valid', 'keypoint_clean'),
         meta_keys=('frame_dir', 'corrupt_ratio', 'corrupt_strategy'))
]
val_pipeline = [
    dict(type='PreNormalize3D'),
    test_corruption,
    dict(type='GenSkeFeat', dataset='nturgb+d', feats=['j']),
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
    dict(type='PreNormalize3D'),
    test_corruption,
    dict(type='GenSkeFeat', dataset='nturgb+d', feats=['j']),
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
        times=5,
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
    coord_channels=3,
    baselines=('zero', 'nearest', 'linear', 'akima'))
test_evaluator = val_evaluator

train_cfg = dict(type='IterBasedTrainLoop', max_iters=1000, val_interval=200)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(optimizer=dict(type='Adam', lr=1e-3))
param_scheduler = [
    dict(type='CosineAnnealingLR', eta_min=1e-5, T_max=1000, by_epoch=False)
]
default_hooks = dict(
    logger=dict(interval=50),
    checkpoint=dict(
        by_epoch=False, interval=200, max_keep_ckpts=2,
        save_best='completion/mpjpe', rule='less'))
log_processor = dict(by_epoch=False)
vis_backends = [
    dict(type='LocalVisBackend'),
    dict(type='TensorboardVisBackend')
]
visualizer = dict(type='ActionVisualizer', vis_backends=vis_backends)
