# Evidence protocol on the 2-core CPU (issue 17): FineTec, its three
# ablations and four ST-GCN++ baselines, trained with the same all-level
# corruption and budget on Penn Action's and UTKinect's training split minus a carved
# validation part, 3 seeds each, evaluated on the whole sweep with identical
# masks on the carve and on the test split.
#
#   python tools/analysis/evidence_protocol.py \
#       configs/evidence/evidence_cpu.py --jobs 2
#
# See docs/evidence_protocol.md. Model configs: all in these two blocks.
PENN = dict(
    FINETEC='configs/finetec/finetec-paper_1xb16-u48-6e_pennaction-keypoint-2d.py',
    WO_COMPLETION='configs/finetec/finetec-wo-completion_1xb16-u48-6e_pennaction-keypoint-2d.py',
    WO_DECOMPOSITION='configs/finetec/finetec-wo-decomposition_1xb16-u48-6e_pennaction-keypoint-2d.py',
    WO_PHYSICS='configs/finetec/finetec-wo-physics_1xb16-u48-6e_pennaction-keypoint-2d.py',
    WO_BOTH='configs/finetec/finetec-wo-decomposition-physics_1xb16-u48-6e_pennaction-keypoint-2d.py',
    STGCNPP='configs/baselines/stgcnpp/stgcnpp_1xb16-joint-u48-6e_pennaction-keypoint-2d.py',
    STGCNPP_INTERP='configs/baselines/stgcnpp/stgcnpp_1xb16-joint-u48-6e_pennaction-interp-keypoint-2d.py',
    STGCNPP_CLEAN='configs/baselines/stgcnpp/stgcnpp_1xb16-joint-u48-6e_pennaction-clean-keypoint-2d.py',
    STGCNPP_RESTORED='configs/finetec/plugplay/stgcnpp-retrieval_1xb16-joint-u48_pennaction-keypoint-2d.py')
UTKINECT = dict(
    FINETEC='configs/finetec/finetec-paper_1xb16-u32-80e_utkinect-keypoint-3d.py',
    WO_COMPLETION='configs/finetec/finetec-wo-completion_1xb16-u32-80e_utkinect-keypoint-3d.py',
    WO_DECOMPOSITION='configs/finetec/finetec-wo-decomposition_1xb16-u32-80e_utkinect-keypoint-3d.py',
    WO_PHYSICS='configs/finetec/finetec-wo-physics_1xb16-u32-80e_utkinect-keypoint-3d.py',
    WO_BOTH='configs/finetec/finetec-wo-decomposition-physics_1xb16-u32-80e_utkinect-keypoint-3d.py',
    STGCNPP='configs/baselines/stgcnpp/stgcnpp_1xb16-joint-u32-80e_utkinect-keypoint-3d.py',
    STGCNPP_INTERP='configs/baselines/stgcnpp/stgcnpp_1xb16-joint-u32-80e_utkinect-interp-keypoint-3d.py',
    STGCNPP_CLEAN='configs/baselines/stgcnpp/stgcnpp_1xb16-joint-u32-80e_utkinect-clean-keypoint-3d.py',
    STGCNPP_RESTORED='configs/finetec/plugplay/stgcnpp-retrieval_1xb16-joint-u32_utkinect-keypoint-3d.py')

seeds = [0, 1, 2]
# every comparison is this model against each other one
reference = 'FineTec'
# one checkpoint for every level: ratio drawn per clip, clean clips included,
# a strategy per clip (TemporalCorruption arguments)
train_corruption = dict(ratio=(0.0, 0.9), strategy='mixed')
# validation on the carve: the same mixture, deterministic masks
val_corruption = dict(ratio=(0.0, 0.9), strategy='mixed')
budget = dict(max_epochs=6)
# the validation part: 15 % of each class of the training split, seeded
holdout = dict(holdout=0.15, seed=0)
# bank of the training-free ① (the training part, as the carve leaves it)
bank = dict(max_size=2048)
sweep = dict(
    ratios=[0.0, 0.25, 0.5, 0.75, 0.9],
    strategies=['random', 'in-between', 'burst', 'motion'],
    mask_seed=0,
    splits=['val', 'test'],
    batch_size=16)
severe = dict(ratio=0.75, strategies=['random', 'in-between', 'motion'])
bootstrap = dict(num_samples=10000, seed=0)

# CPU-sized GCN for every model: 16 base channels, 6 stages (16-32-64), see
# docs/evidence_protocol.md for the measured cost of each width
cpu_width = {
    'model.backbone.base_channels': 16,
    'model.backbone.num_stages': 6,
    'model.backbone.inflate_stages': [3, 5],
    'model.backbone.down_stages': [3, 5],
    'model.cls_head.in_channels': 64,
}
common_options = dict(cpu_width)
# ① without stage 1: Akima + retrieval from the training part's bank
training_free = {'model.completion_checkpoint': None}



def models(paths):
    """The nine models of the protocol, from one dataset's configs."""
    return {
        'FineTec': (paths['FINETEC'], training_free),
        'FineTec w/o ①': (paths['WO_COMPLETION'], {}),
        'FineTec w/o ②': (paths['WO_DECOMPOSITION'], training_free),
        'FineTec w/o ③': (paths['WO_PHYSICS'], training_free),
        'FineTec w/o ②③': (paths['WO_BOTH'], training_free),
        'ST-GCN++': (paths['STGCNPP'], {}),
        'ST-GCN++ Akima': dict(
            config=paths['STGCNPP_INTERP'],
            pipeline_options=dict(
                InterpolateMissingFrames=dict(method='akima'))),
        'ST-GCN++ + ①': (paths['STGCNPP_RESTORED'], training_free),
        'ST-GCN++ clean': dict(config=paths['STGCNPP_CLEAN'],
                               train_corruption=None),
    }


datasets = dict(
    penn_action=dict(
        ann_file='data/penn_action/penn_action_coco17_2d.pkl',
        train_split='train',
        test_split='test',
        models=models(PENN)),
    # 100 training segments repeated 5 times per epoch (its configs'
    # RepeatDataset): 8 epochs see about as many clips as Penn's 6
    utkinect=dict(
        ann_file='data/utkinect/utkinect_3d.pkl',
        train_split='train',
        test_split='test',
        budget=dict(max_epochs=8),
        models=models(UTKINECT)))
