# A tiny stock ST-GCN++ with the physics-acceleration neck (tests only).
_base_ = '../../configs/finetec/stgcnpp-physics_1xb32-joint-u48-15e_gymsynth-keypoint-2d.py'

model = dict(
    neck=dict(hidden_channels=16),
    backbone=dict(base_channels=8, num_stages=2, inflate_stages=[],
                  down_stages=[]),
    cls_head=dict(in_channels=8))
train_dataloader = dict(batch_size=4, num_workers=0, persistent_workers=False)
val_dataloader = dict(batch_size=4, num_workers=0, persistent_workers=False)
test_dataloader = dict(batch_size=4, num_workers=0, persistent_workers=False)
train_cfg = dict(max_epochs=1, val_interval=1)
param_scheduler = [
    dict(type='CosineAnnealingLR', eta_min=0, T_max=1, by_epoch=True,
         convert_to_iter_based=True)
]
default_hooks = dict(checkpoint=dict(interval=1), logger=dict(interval=2))
