# Tiny FineTec trained for every level of frame loss (tests only): the
# training corruption is drawn per clip, ratio U(0, 0.9) and one of the
# masking strategies ('mixed'), with the training-free ① (Akima +
# retrieval from the training split). Pass the data file with
# --cfg-options (see tests/e2e_utils.data_options) and
# model.completion.bank.ann_file.
_base_ = './finetec_tiny_gymsynth.py'

model = dict(
    completion=dict(
        retrieval=dict(num_neighbours=4),
        bank=dict(ann_file='data/synthetic/gym_synthetic.pkl',
                  split='train')),
    completion_checkpoint=None)

train_dataloader = dict(
    dataset=dict(
        dataset=dict(pipeline=[
            dict(type='PreNormalize2D'),
            dict(type='TemporalCorruption', ratio=(0.0, 0.9),
                 strategy='mixed'),
            dict(type='GenSkeFeat', dataset='coco', feats=['j']),
            dict(type='UniformSampleFrames', clip_len=48),
            dict(type='PoseDecode'),
            dict(type='FormatGCNInput', num_person=1),
            dict(type='PackActionInputs')
        ])))
train_cfg = dict(max_epochs=1)
param_scheduler = [
    dict(type='CosineAnnealingLR', eta_min=0, T_max=1, by_epoch=True,
         convert_to_iter_based=True)
]
