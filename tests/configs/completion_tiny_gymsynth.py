# Stage 1 in a few iterations on the synthetic data (tests only).
_base_ = '../../configs/finetec/completion_1xb64-u48-500_gymsynth-keypoint-2d.py'

model = dict(completion=dict(hidden_channels=8, bank=dict(max_size=16,
                                                          cache=None)))
# times=20: one "epoch" covers all the iterations (mmengine's iteration loop
# pauses at every epoch end)
train_dataloader = dict(batch_size=8, num_workers=0, persistent_workers=False,
                        dataset=dict(times=20))
val_dataloader = dict(batch_size=8, num_workers=0, persistent_workers=False)
test_dataloader = dict(batch_size=8, num_workers=0, persistent_workers=False)
train_cfg = dict(max_iters=30, val_interval=30)
param_scheduler = [
    dict(type='CosineAnnealingLR', eta_min=1e-4, T_max=30, by_epoch=False)
]
default_hooks = dict(
    logger=dict(interval=5), checkpoint=dict(interval=30))
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='ActionVisualizer', vis_backends=vis_backends)
