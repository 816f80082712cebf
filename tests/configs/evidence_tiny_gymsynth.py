# A tiny evidence-protocol spec on the synthetic data (tests only): two
# models x the seeds given x a 2-cell sweep (clean, 50 % random), one epoch.
# Set datasets.gymsynth.ann_file to the synthetic pickle.
seeds = [0, 1]
reference = 'FineTec'
train_corruption = dict(ratio=(0.0, 0.9), strategy='mixed')
val_corruption = dict(ratio=(0.0, 0.9), strategy='mixed')
sweep = dict(ratios=[0.0, 0.5], strategies=['random'], mask_seed=0,
             splits=['val', 'test'], batch_size=4)
severe = dict(ratio=0.5, strategies=['random'])
bootstrap = dict(num_samples=500, seed=0)
budget = dict(max_epochs=1)
holdout = dict(holdout=0.25, seed=0)
common_options = {'train_dataloader.num_workers': 0,
                  'val_dataloader.num_workers': 0,
                  'test_dataloader.num_workers': 0}

datasets = dict(
    gymsynth=dict(
        ann_file=None,
        models=dict(
            FineTec=('{{ fileDirname }}/finetec_tiny_gymsynth.py', {
                # training-free ①: Akima + retrieval from the training part
                'model.completion_checkpoint': None,
                'model.completion.retrieval': dict(num_neighbours=4),
            }),
            **{'ST-GCN++': ('{{ fileDirname }}/stgcnpp_tiny_gymsynth.py',
                            {})})))
