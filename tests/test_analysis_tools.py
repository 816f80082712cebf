"""The analysis tools: the corruption sweep
(tools/analysis/corruption_sweep.py), the speed benchmark
(tools/analysis/benchmark_speed.py) and mixed precision on CPU
(AutocastOptimWrapper, tools/train.py --amp).

Checkpoints of the tiny test models are written in-process (untrained: the
sweep's numbers only have to be valid accuracies); one tiny FineTec run
goes through tools/train.py --amp."""
import csv
import json
import math
import os
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config

from e2e_utils import TEST_CONFIGS, TOOLS, load_tool, run, scalars
from finetec_mmaction.core import frame_validity
from finetec_mmaction.engine.optimizers import (AutocastOptimWrapper,
                                                enable_amp)
from finetec_mmaction.evaluation.corruption_sweep import (SweepModel,
                                                          sweep_pipeline)
from finetec_mmaction.evaluation.speed import build_model
from finetec_mmaction.models.loading import load_recognizer

STGCNPP_CLEAN = osp.join(TEST_CONFIGS, 'stgcnpp_tiny_clean_gymsynth.py')
STGCNPP = osp.join(TEST_CONFIGS, 'stgcnpp_tiny_gymsynth.py')
FINETEC = osp.join(TEST_CONFIGS, 'finetec_tiny_gymsynth.py')
PLUGPLAY = osp.join(TEST_CONFIGS, 'plugplay_tiny_gymsynth.py')
CLIP_LEN = 48  # the gymsynth configs


sweep_tool = load_tool('analysis', 'corruption_sweep.py')
speed_tool = load_tool('analysis', 'benchmark_speed.py')


@pytest.fixture(scope='module')
def checkpoints(tmp_path_factory):
    """Untrained checkpoints of the tiny clean ST-GCN++ and the tiny
    FineTec (its completion module random, bank included)."""
    root = tmp_path_factory.mktemp('sweep_ckpts')
    paths = {}
    for key, config in (('stgcnpp', STGCNPP_CLEAN), ('finetec', FINETEC)):
        model = build_model(config, CLIP_LEN, 'cpu', bank_size=8)
        paths[key] = str(root / f'{key}.pth')
        torch.save(dict(state_dict=model.state_dict(), meta={}),
                   paths[key])
    return paths


def _test_data(cfg, ann_file):
    cfg.merge_from_dict({'test_dataloader.dataset.ann_file': ann_file})
    return cfg


# ------------------------------------------------------------------ sweep
def test_sweep_pipeline_inserts_or_overrides_the_corruption():
    clean = Config.fromfile(STGCNPP_CLEAN).test_pipeline
    pipeline, inserted = sweep_pipeline(clean, 0.75, 'burst', seed=3)
    types = [t['type'] for t in pipeline]
    assert inserted and types[:2] == ['PreNormalize2D', 'TemporalCorruption']
    assert pipeline[1] == dict(type='TemporalCorruption', ratio=0.75,
                               strategy='burst', test_mode=True, seed=3)

    corrupted = Config.fromfile(FINETEC).test_pipeline
    pipeline, inserted = sweep_pipeline(corrupted, 0.25, 'motion')
    assert not inserted and len(pipeline) == len(corrupted)
    index = [t['type'] for t in pipeline].index('TemporalCorruption')
    assert pipeline[index]['ratio'] == 0.25
    assert pipeline[index]['strategy'] == 'motion'
    assert pipeline[index]['test_mode'] is True
    # the config itself is left alone
    assert corrupted[index]['ratio'] == 'moderate'


def test_sweep_masks_are_identical_for_every_model(checkpoints,
                                                   synthetic_file):
    models = [
        SweepModel(key, _test_data(Config.fromfile(cfg), synthetic_file),
                   checkpoints[key])
        for key, cfg in (('stgcnpp', STGCNPP_CLEAN), ('finetec', FINETEC))
    ]
    for ratio, strategy in ((0.5, 'random'), (0.75, 'in-between')):
        masks = []
        for model in models:
            model.set_corruption(ratio, strategy)
            masks.append(np.stack([
                frame_validity(model.dataset[i]['inputs'][None])[0].numpy()
                for i in range(len(model.dataset))
            ]))  # (N, num_clips, M, T)
        np.testing.assert_array_equal(masks[0], masks[1])
        missing = 1 - masks[0].mean()
        assert abs(missing - ratio) < 0.1, (strategy, ratio, missing)
    models[0].set_corruption(0.0, 'random')
    assert frame_validity(models[0].dataset[0]['inputs'][None]).all()


def test_corruption_sweep_tool(checkpoints, synthetic_file, tmp_path,
                               capsys):
    out_dir = str(tmp_path / 'sweep')
    ratios, strategies = ['0', '0.5', '0.9'], ['random', 'in-between',
                                               'burst', 'motion']
    sweep_tool.main([
        STGCNPP_CLEAN, checkpoints['stgcnpp'], FINETEC,
        checkpoints['finetec'], '--names', 'ST-GCN++', 'FineTec',
        '--ratios', *ratios, '--strategies', *strategies, '--out-dir',
        out_dir, '--device', 'cpu', '--batch-size', '4', '--num-workers',
        '0', '--no-progress', '--cfg-options',
        f'test_dataloader.dataset.ann_file={synthetic_file}'
    ])
    printed = capsys.readouterr().out
    for word in ('top-1', 'top-5', 'mean class accuracy', 'ST-GCN++ / burst',
                 'FineTec / motion'):
        assert word in printed
    assert sorted(os.listdir(out_dir)) == [
        'corruption_sweep.csv', 'corruption_sweep.json',
        'corruption_sweep.png'
    ]  # no temporary files left behind

    with open(osp.join(out_dir, 'corruption_sweep.csv')) as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 2 * len(strategies) * len(ratios)
    assert {(r['model'], r['strategy'], float(r['ratio']))
            for r in rows} == {(m, s, float(r))
                               for m in ('ST-GCN++', 'FineTec')
                               for s in strategies for r in ratios}
    for row in rows:
        for key in ('top1', 'top5', 'mean_class_acc'):
            assert 0.0 <= float(row[key]) <= 1.0
        assert float(row['top1']) <= float(row['top5'])
        assert int(row['num_samples']) == 8
    for model in ('ST-GCN++', 'FineTec'):  # ratio 0: one shared evaluation
        clean = {(r['top1'], r['top5'], r['mean_class_acc'])
                 for r in rows if r['model'] == model and r['ratio'] == '0.0'}
        assert len(clean) == 1

    results = json.load(open(osp.join(out_dir, 'corruption_sweep.json')))
    assert results['meta']['ratios'] == [0.0, 0.5, 0.9]
    assert results['meta']['clean_shared'] is True
    inserted = {m['name']: m['corruption_inserted']
                for m in results['meta']['models']}
    assert inserted == {'ST-GCN++': True, 'FineTec': False}
    assert len(results['rows']) == len(rows)

    png = osp.join(out_dir, 'corruption_sweep.png')
    with open(png, 'rb') as f:
        assert f.read(8) == b'\x89PNG\r\n\x1a\n'
    import matplotlib.image
    height, width = matplotlib.image.imread(png).shape[:2]
    assert width > 4 * 200 and height > 200  # one panel per strategy


def test_load_recognizer_plug_and_play(checkpoints):
    """A stock ST-GCN++ checkpoint under a plug-and-play config: the
    completion weights come from model.completion_checkpoint."""
    cfg = Config.fromfile(PLUGPLAY)
    cfg.model.completion_checkpoint = checkpoints['finetec']
    model = load_recognizer(cfg, checkpoints['stgcnpp'])
    stage2 = torch.load(checkpoints['finetec'], weights_only=False)
    bank = stage2['state_dict']['completion.bank.sequences']
    assert torch.equal(model.completion.bank.sequences, bank)
    cfg.model.completion_checkpoint = None
    with pytest.raises(KeyError, match='completion_checkpoint'):
        load_recognizer(cfg, checkpoints['stgcnpp'])


# ------------------------------------------------------------------ speed
def test_benchmark_speed_tool_tiny_cpu(tmp_path, capsys):
    out = str(tmp_path / 'speed.json')
    results = speed_tool.main([
        '--finetec-config', FINETEC, '--baseline-config', STGCNPP,
        '--batch-size', '2', '--clip-len', str(CLIP_LEN), '--iters', '2',
        '--warmup', '1', '--device', 'cpu', '--breakdown', '--out', out
    ])
    printed = capsys.readouterr().out
    assert 'FineTec / ST-GCN++ median time: train' in printed
    saved = json.load(open(out))
    assert set(saved['models']) == {'finetec', 'stgcnpp'}
    for key, entry in saved['models'].items():
        for mode in ('train', 'infer'):
            assert entry[mode]['median_ms'] > 0
            assert entry[mode]['samples_per_s'] > 0
            assert entry[mode]['peak_mem_mb'] is None  # CPU, no probe
        assert math.isfinite(entry['last_train_loss'])
        assert entry['state_mb'] > 0
    # the completion module is frozen: FineTec trains fewer than it holds
    assert saved['models']['finetec']['trainable'] < \
        saved['models']['finetec']['params']
    assert saved['ratio']['train'] == pytest.approx(
        saved['models']['finetec']['train']['median_ms'] /
        saved['models']['stgcnpp']['train']['median_ms'])
    assert saved['meta']['batch_size'] == 2
    # forward time per module, both modes
    assert set(saved['breakdown']['finetec']['train']) >= {
        'completion', 'decomposition', 'neck', 'backbone', 'cls_head'}
    assert set(saved['breakdown']['stgcnpp']['infer']) >= {'backbone'}
    assert results['meta']['clip_len'] == CLIP_LEN


# -------------------------------------------------------------------- AMP
def test_enable_amp_config():
    cfg = Config(dict(optim_wrapper=dict(
        type='AmpOptimWrapper', loss_scale='dynamic',
        optimizer=dict(type='SGD', lr=0.1))))
    enable_amp(cfg, 'cpu')
    assert cfg.optim_wrapper.type == 'AutocastOptimWrapper'
    assert cfg.optim_wrapper.dtype == 'bfloat16'
    assert 'loss_scale' not in cfg.optim_wrapper
    with pytest.raises(ValueError, match='bfloat16 only'):
        enable_amp(Config(dict(optim_wrapper=dict(
            dtype='float16', optimizer=dict(type='SGD', lr=0.1)))), 'cpu')
    with pytest.raises(ValueError, match='custom optimizer wrapper'):
        enable_amp(Config(dict(optim_wrapper=dict(
            type='MyWrapper', optimizer=dict(type='SGD', lr=0.1)))), 'cpu')


def test_autocast_optim_wrapper_trains_finetec_in_bfloat16(synthetic_file):
    from finetec_mmaction.evaluation.speed import synthetic_batch
    model = build_model(FINETEC, CLIP_LEN, 'cpu', bank_size=8)
    wrapper = AutocastOptimWrapper(
        optimizer=torch.optim.SGD(
            [p for p in model.parameters() if p.requires_grad], lr=0.01))
    dtypes = []
    model.backbone.register_forward_hook(
        lambda m, i, o: dtypes.append(o.dtype))
    data = synthetic_batch(batch_size=4, clip_len=CLIP_LEN, num_classes=4)
    before = model.backbone.data_bn.weight.detach().clone()
    model.train()
    for _ in range(2):
        log = model.train_step(data, wrapper)
        assert all(math.isfinite(float(v)) for v in log.values())
    assert dtypes == [torch.bfloat16] * 2  # the GCN ran in bfloat16
    assert not torch.equal(before, model.backbone.data_bn.weight)
    # the float32 hook on the head lives only inside the context
    assert not model.cls_head._forward_hooks
    assert model.completion.bank.sequences.dtype == torch.float32


def test_train_tool_amp_on_cpu(synthetic_file, tmp_path):
    work_dir = str(tmp_path / 'amp')
    out = run([
        osp.join(TOOLS, 'train.py'), FINETEC, '--amp', '--no-validate',
        '--work-dir', work_dir, '--seed', '0', '--cfg-options',
        'model.completion_checkpoint=None',
        f'model.completion.bank.ann_file={synthetic_file}',
        'train_cfg.max_epochs=1',
        f'train_dataloader.dataset.dataset.ann_file={synthetic_file}'
    ], cwd=str(tmp_path))
    assert "type='AutocastOptimWrapper'" in out and \
        "dtype='bfloat16'" in out
    logged = [s for s in scalars(work_dir) if 'loss' in s]
    assert logged and all(
        math.isfinite(s['loss']) and math.isfinite(s['loss_acc'])
        for s in logged)
