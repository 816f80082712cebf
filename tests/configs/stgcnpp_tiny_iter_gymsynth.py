# The tiny ST-GCN++ as an iteration-based run with Adam and a checkpoint
# every 8 iterations (tests only): kill-and-resume. Adam's per-parameter
# step count and the scheduler's state show whether a resumed run restored
# the optimizer and the scheduler.
_base_ = './stgcnpp_tiny_gymsynth.py'

max_iters = 16
train_cfg = dict(
    _delete_=True, type='IterBasedTrainLoop', max_iters=max_iters,
    val_interval=max_iters)
optim_wrapper = dict(optimizer=dict(_delete_=True, type='Adam', lr=1e-3))
param_scheduler = [
    dict(type='CosineAnnealingLR', eta_min=1e-5, T_max=max_iters,
         by_epoch=False)
]
# (each save costs more than an iteration here: mmengine formats the config
# into the checkpoint's meta)
default_hooks = dict(
    checkpoint=dict(by_epoch=False, interval=8, max_keep_ckpts=2),
    logger=dict(interval=4))
log_processor = dict(by_epoch=False)
