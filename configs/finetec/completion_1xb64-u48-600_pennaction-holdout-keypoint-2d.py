# Does stage 1 earn its keep? Its learned correction trained and judged
# without the test split: Penn Action's training split less a 20 %
# class-stratified carve trains it and is its bank (with the README's
# retrieval keys); the carve validates it and is what the benchmark scores
# (docs/experiments/safe_restoration.md, "Stage 1 with the no-worse hinge"):
#   python tools/train.py THIS_CONFIG --work-dir work_dirs/stage1_holdout
#   python tools/analysis/completion_benchmark.py THIS_CONFIG \
#       work_dirs/stage1_holdout/iter_600.pth     # or --untrained: its base
_base_ = 'completion_1xb64-u48-1200_pennaction-keypoint-2d.py'

carve = dict(split='train', holdout=0.2, seed=0)
train_part = dict(carve, subset='train', _delete_=True)
holdout_part = dict(carve, subset='holdout', _delete_=True)
model = dict(
    completion=dict(
        retrieval=dict(num_neighbours=16, flip_index='coco'),
        # its own cache: a bank file does not record its split
        bank=dict(
            split=train_part,
            cache='work_dirs/banks/pennaction_train-less-holdout20_u48.npz')))
train_dataloader = dict(dataset=dict(dataset=dict(split=train_part)))
val_dataloader = dict(dataset=dict(split=holdout_part))
test_dataloader = dict(dataset=dict(split=holdout_part))
train_cfg = dict(max_iters=600, val_interval=150)
param_scheduler = [
    dict(type='CosineAnnealingLR', eta_min=1e-5, T_max=600, by_epoch=False)
]
default_hooks = dict(checkpoint=dict(interval=150))
