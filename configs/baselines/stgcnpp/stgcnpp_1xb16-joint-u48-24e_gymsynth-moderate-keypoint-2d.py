# Stock ST-GCN++ (joint stream) on the embedded synthetic Gym-format dataset
# (generate it with tools/data/generate_synthetic_gym.py), trained and tested
# with 50 % of the frames missing (random drop, zero-filled).
# Sized for a CPU: clip_len 48, 24 epochs, batch 16.
_base_ = 'mmaction::skeleton/stgcnpp/stgcnpp_8xb16-joint-u100-80e_ntu60-xsub-keypoint-2d.py'

custom_imports = dict(imports=['finetec_mmaction'], allow_failed_imports=False)

num_classes = 12
model = dict(cls_head=dict(num_classes=num_classes))

dataset_type = 'SafePoseDataset'
ann_file = 'data/synthetic/gym_synthetic.pkl'
clip_len = 48
# severity: 'minor' 25 %, 'moderate' 50 %, 'severe' 75 % of frames missing
missing_ratio = 'moderate'
# random | pattern | prefix | suffix | in-between | burst | motion | mixed
missing_strategy = 'random'
corruption_seed = 0

train_pipeline = [
    dict(type='PreNormalize2D'),
    dict(type='TemporalCorruption', ratio=missing_ratio,
         strategy=missing_strategy),
    dict(type='GenSkeFeat', dataset='coco', feats=['j']),
    dict(type='UniformSampleFrames', clip_len=clip_len),
    dict(type='PoseDecode'),
    dict(type='FormatGCNInput', num_person=1),
    dict(type='PackActionInputs')
]
val_pipeline = [
    dict(type='PreNormalize2D'),
    dict(type='TemporalCorruption', ratio=missing_ratio,
         strategy=missing_strategy, test_mode=True, seed=corruption_seed),
    dict(type='GenSkeFeat', dataset='coco', feats=['j']),
    dict(type='UniformSampleFrames', clip_len=clip_len, num_clips=1,
         test_mode=True),
    dict(type='PoseDecode'),
    dict(type='FormatGCNInput', num_person=1),
    dict(type='PackActionInputs')
]
test_pipeline = val_pipeline

# the pipeline is cheap: one loader worker leaves the cores to the model
train_dataloader = dict(
    batch_size=16,
    num_workers=1,
    dataset=dict(
        _delete_=True,
        type=dataset_type,
        ann_file=ann_file,
        num_classes=num_classes,
        pipeline=train_pipeline,
        split='train'))
val_dataloader = dict(
    batch_size=16,
    num_workers=1,
    dataset=dict(
        _delete_=True,
        type=dataset_type,
        ann_file=ann_file,
        num_classes=num_classes,
        pipeline=val_pipeline,
        split='test',
        test_mode=True))
test_dataloader = val_dataloader

train_cfg = dict(max_epochs=24, val_interval=4)
param_scheduler = [
    dict(type='CosineAnnealingLR', eta_min=0, T_max=24, by_epoch=True,
         convert_to_iter_based=True)
]
default_hooks = dict(checkpoint=dict(interval=4), logger=dict(interval=10))
vis_backends = [dict(type='LocalVisBackend'), dict(type='TensorboardVisBackend')]
visualizer = dict(type='ActionVisualizer', vis_backends=vis_backends)
