# FineTec on NTU RGB+D 120 (cross-subject, 2D HRNet), stage 2: the recognizer,
# with the completion module ① frozen in front (① completion -> ②
# spatial decomposition -> ③ physics-driven acceleration -> ST-GCN++; the model
# is ../_base_/models/finetec_coco2d.py). ① is training-free
# (no stage 1 to run first):
#   python tools/train.py configs/finetec/finetec_8xb16-u100-80e_ntu120-xsub-keypoint-2d.py
#   python tools/test.py configs/finetec/finetec_8xb16-u100-80e_ntu120-xsub-keypoint-2d.py CHECKPOINT
#
# Missing frames: training draws a ratio in [0, 0.9] and a strategy per
# sample, so one checkpoint serves every level; val / test drop 75 % of the
# frames (severe) at random. Other levels, without a config file:
#   python tools/test.py CONFIG CHECKPOINT --missing-ratio 0.5 --missing-strategy burst
# (tools/train.py takes the same flags; they set every TemporalCorruption).
# Children: -{minor,moderate,severe} (train and test at one level)
_base_ = [
    'mmaction::_base_/default_runtime.py',
    '../_base_/models/finetec_coco2d.py'
]

custom_imports = dict(imports=['finetec_mmaction'], allow_failed_imports=False)
# log a digest of the corrupted val / test set before each epoch (equal
# digests: scored on the same missing frames); refuse a load_from / resume
# checkpoint of another class count or skeleton layout
custom_hooks = [
    dict(type='CorruptionDigestHook'),
    dict(type='CheckpointCompatibilityHook')
]

model = dict(
    completion=dict(
        clip_len=100,
        # training-free ①: Akima + the detail of the 16 closest training
        # sequences, made safe by self-validation; the bank is the
        # training split (cached after the first run)
        retrieval=dict(num_neighbours=16, flip_index='coco'),
        bank=dict(
            ann_file='data/skeleton/ntu120_2d.pkl',
            split='xsub_train',
            max_size=2048,
            cache='work_dirs/banks/ntu120-xsub_xsub_train_u100.npz')),
    # no stage 1: the learned correction of ① has not beaten its
    # training-free base (docs/experiments/safe_restoration.md); for the
    # paper's ①, train the stage-1 config and set its work dir here
    completion_checkpoint=None,
    cls_head=dict(num_classes=120))

dataset_type = 'SafePoseDataset'
ann_file = 'data/skeleton/ntu120_2d.pkl'
num_classes = 120
clip_len = 100
# training: a missing ratio in [0, 0.9] drawn per sample, and per sample one
# of random / pattern / prefix / suffix / in-between / burst / motion
# ('mixed'), so one checkpoint serves every level
train_corruption = dict(
    type='TemporalCorruption', ratio=(0.0, 0.9), strategy='mixed')
# val / test: 75 % of the frames missing (severe) at random, the same frames
# for every model (masks seeded by (seed, frame_dir))
test_corruption = dict(
    type='TemporalCorruption', ratio='severe', strategy='random',
    test_mode=True, seed=0)

train_pipeline = [
    dict(type='PreNormalize2D'),
    train_corruption,  # after normalising: it would move the zeros
    dict(type='GenSkeFeat', dataset='coco', feats=['j']),
    dict(type='UniformSampleFrames', clip_len=clip_len),
    dict(type='PoseDecode'),
    dict(type='FormatGCNInput', num_person=2),
    dict(type='PackActionInputs')
]
val_pipeline = [
    dict(type='PreNormalize2D'),
    test_corruption,
    dict(type='GenSkeFeat', dataset='coco', feats=['j']),
    dict(
        type='UniformSampleFrames', clip_len=clip_len, num_clips=1,
        test_mode=True),
    dict(type='PoseDecode'),
    dict(type='FormatGCNInput', num_person=2),
    dict(type='PackActionInputs')
]
test_pipeline = [
    dict(type='PreNormalize2D'),
    test_corruption,
    dict(type='GenSkeFeat', dataset='coco', feats=['j']),
    dict(
        type='UniformSampleFrames', clip_len=clip_len, num_clips=10,
        test_mode=True),
    dict(type='PoseDecode'),
    dict(type='FormatGCNInput', num_person=2),
    dict(type='PackActionInputs')
]

train_dataloader = dict(
    batch_size=16,
    num_workers=2,
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
            split='xsub_train')))
val_dataloader = dict(
    batch_size=16,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        ann_file=ann_file,
        num_classes=num_classes,
        pipeline=val_pipeline,
        split='xsub_val',
        test_mode=True))
test_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        ann_file=ann_file,
        num_classes=num_classes,
        pipeline=test_pipeline,
        split='xsub_val',
        test_mode=True))

train_cfg = dict(
    type='EpochBasedTrainLoop', max_epochs=16, val_begin=1,
    val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
param_scheduler = [
    dict(
        type='CosineAnnealingLR',
        eta_min=0,
        T_max=16,
        by_epoch=True,
        convert_to_iter_based=True)
]
optim_wrapper = dict(
    optimizer=dict(
        type='SGD', lr=0.1, momentum=0.9, weight_decay=0.0005, nesterov=True))
val_evaluator = [dict(type='AccMetric')]
test_evaluator = val_evaluator

default_hooks = dict(checkpoint=dict(interval=1, max_keep_ckpts=3))
vis_backends = [
    dict(type='LocalVisBackend'),
    dict(type='TensorboardVisBackend')
]
visualizer = dict(type='ActionVisualizer', vis_backends=vis_backends)
auto_scale_lr = dict(enable=False, base_batch_size=128)
