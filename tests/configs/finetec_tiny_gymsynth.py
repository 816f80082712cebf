# Stage 2 of FineTec, tiny, on the synthetic data (tests only). Set
# model.completion_checkpoint to the stage-1 work dir.
_base_ = '../../configs/finetec/finetec_1xb32-u48-15e_gymsynth-moderate-keypoint-2d.py'

model = dict(
    completion=dict(hidden_channels=8),
    neck=dict(hidden_channels=16),
    backbone=dict(base_channels=8, num_stages=2, inflate_stages=[],
                  down_stages=[]),
    cls_head=dict(in_channels=8))
train_dataloader = dict(batch_size=4, num_workers=0, persistent_workers=False)
val_dataloader = dict(batch_size=4, num_workers=0, persistent_workers=False)
test_dataloader = dict(batch_size=4, num_workers=0, persistent_workers=False)
train_cfg = dict(max_epochs=2, val_interval=1)
param_scheduler = [
    dict(type='CosineAnnealingLR', eta_min=0, T_max=2, by_epoch=True,
         convert_to_iter_based=True)
]
default_hooks = dict(checkpoint=dict(interval=1), logger=dict(interval=2))
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='ActionVisualizer', vis_backends=vis_backends)
