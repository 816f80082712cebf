# A tiny stock ST-GCN++ trained on CLEAN synthetic data (tests only): the
# "existing checkpoint" that plug-and-play restoration is put in front of.
_base_ = '../../configs/baselines/stgcnpp/stgcnpp_1xb32-joint-u48-15e_gymsynth-clean-keypoint-2d.py'

model = dict(
    backbone=dict(base_channels=8, num_stages=2, inflate_stages=[],
                  down_stages=[]),
    cls_head=dict(in_channels=8))

train_dataloader = dict(batch_size=4, num_workers=0, persistent_workers=False)
val_dataloader = dict(batch_size=4, num_workers=0, persistent_workers=False)
test_dataloader = dict(batch_size=4, num_workers=0, persistent_workers=False)
train_cfg = dict(max_epochs=2, val_interval=2)
param_scheduler = [
    dict(type='CosineAnnealingLR', eta_min=0, T_max=2, by_epoch=True,
         convert_to_iter_based=True)
]
default_hooks = dict(checkpoint=dict(interval=2), logger=dict(interval=2))
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='ActionVisualizer', vis_backends=vis_backends)
