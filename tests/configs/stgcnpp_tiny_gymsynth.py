# A tiny ST-GCN++ on the synthetic Gym-format data, for end-to-end tests of
# the train/test tools. Pass the data file with
# --cfg-options train_dataloader.dataset.ann_file=... (and val/test).
_base_ = '../../configs/baselines/stgcnpp/stgcnpp_1xb32-joint-u48-15e_gymsynth-moderate-keypoint-2d.py'

model = dict(
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
default_hooks = dict(checkpoint=dict(interval=1), logger=dict(interval=1))
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='ActionVisualizer', vis_backends=vis_backends)
