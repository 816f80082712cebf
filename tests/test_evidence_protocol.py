"""The evidence protocol end to end on the synthetic set
(tools/analysis/evidence_protocol.py, finetec_mmaction.apis.evidence):
2 models x 2 seeds x a 2-cell sweep on the carved validation part and the
test split; a second call trains nothing and evaluates only what is
missing; a changed spec is refused as stale."""
import glob
import json
import os
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config

from e2e_utils import REPO, TEST_CONFIGS
from finetec_mmaction.apis.evidence import (ProtocolError, load_spec,
                                            plan_runs, read_cell,
                                            run_protocol)
from finetec_mmaction.apis.evidence.run_config import apply_budget
from finetec_mmaction.datasets import safe_load_pickle, select_split

SPEC = osp.join(TEST_CONFIGS, 'evidence_tiny_gymsynth.py')
MODELS = ('FineTec', 'ST-GCN++')
SEEDS = (0, 1)
SPLITS = ('val', 'test')
CELLS = ('clean', 'random-0.5')


def _spec_file(tmp_path, ann_file, extra=''):
    path = tmp_path / 'spec.py'
    path.write_text(f"_base_ = '{SPEC}'\n"
                    f"datasets = dict(gymsynth=dict(ann_file='{ann_file}'))\n"
                    + extra)
    return str(path)


@pytest.fixture(scope='module')
def protocol(synthetic_file, tmp_path_factory):
    root = tmp_path_factory.mktemp('evidence')
    spec_file = _spec_file(root, synthetic_file)
    work_dir = str(root / 'work')
    lines = []
    result = run_protocol(load_spec(spec_file), work_dir, jobs=2,
                          log=lines.append)
    return dict(spec_file=spec_file, work_dir=work_dir, result=result,
                log='\n'.join(lines), ann_file=synthetic_file)


def _run_dir(protocol, model, seed):
    return osp.join(protocol['work_dir'], 'gymsynth', model, f'seed{seed}')


def _cell(protocol, model, seed, split, cell):
    return osp.join(_run_dir(protocol, model, seed), 'sweep', split,
                    f'{cell}.npz')


def test_protocol_trains_evaluates_and_reports(protocol):
    assert not protocol['result']['failures'], protocol['log']
    for model in MODELS:
        for seed in SEEDS:
            done = json.load(open(osp.join(_run_dir(protocol, model, seed),
                                           '.done')))
            assert done['epochs'] == 1 and osp.isfile(done['checkpoint'])
            for split in SPLITS:
                for cell in CELLS:
                    assert osp.isfile(_cell(protocol, model, seed, split,
                                            cell))
    report = osp.join(protocol['work_dir'], 'report')
    for name in ('evidence.md', 'evidence.json', 'sweep.csv', 'bootstrap.csv',
                 'sweep_gymsynth_test.png', 'sweep_gymsynth_val.png'):
        assert osp.getsize(osp.join(report, name)) > 0
    text = open(osp.join(report, 'evidence.md')).read()
    assert '## gymsynth, test split (8 videos)' in text
    assert 'FineTec − ST-GCN++' in text
    # the shared ① restored each clip once for both FineTec seeds
    assert '50.0% reused' in protocol['log']


def test_runs_train_on_the_training_part_and_validate_on_the_carve(
        protocol):
    cfg = Config.fromfile(osp.join(_run_dir(protocol, 'FineTec', 0),
                                   'config.py'))
    train = cfg.train_dataloader.dataset.dataset
    assert train.split == dict(split='train', holdout=0.25, seed=0,
                               subset='train')
    assert cfg.val_dataloader.dataset.split['subset'] == 'holdout'
    assert cfg.test_dataloader.dataset.split == 'test'
    corruption = [t for t in train.pipeline
                  if t.type == 'TemporalCorruption'][0]
    assert (list(corruption.ratio), corruption.strategy,
            corruption.test_mode) == ([0.0, 0.9], 'mixed', False)
    val = [t for t in cfg.val_dataloader.dataset.pipeline
           if t.type == 'TemporalCorruption'][0]
    assert val.test_mode and val.seed == 0
    assert cfg.train_cfg.max_epochs == 1 and cfg.randomness.seed == 0
    # one frozen training-free ① for every FineTec seed, its bank the
    # training part only (12 of the 16 training samples)
    other = Config.fromfile(osp.join(_run_dir(protocol, 'FineTec', 1),
                                     'config.py'))
    assert cfg.model.completion_checkpoint == \
        other.model.completion_checkpoint
    state = torch.load(cfg.model.completion_checkpoint,
                       weights_only=False)['state_dict']
    assert state['completion.bank.sequences'].shape[0] == 12


def test_predictions_are_per_video_on_identical_masks(protocol):
    data = safe_load_pickle(protocol['ann_file'])
    held = [a['frame_dir'] for a in select_split(
        data, dict(split='train', holdout=0.25, seed=0, subset='holdout'),
        'f')[0]]
    expected = dict(val=held, test=list(data['split']['test']))
    for split in SPLITS:
        digests = {}
        for model in MODELS:
            for seed in SEEDS:
                for cell in CELLS:
                    got = read_cell(_cell(protocol, model, seed, split, cell))
                    assert got['frame_dir'] == expected[split]
                    assert got['score'].shape == (len(expected[split]), 12)
                    digests.setdefault(cell, set()).add(
                        got['meta']['mask_digest'])
        # one mask set per cell for every model and seed, and the cells differ
        assert all(len(d) == 1 for d in digests.values())
        assert digests['clean'] != digests['random-0.5']


def test_report_numbers_follow_from_the_predictions(protocol):
    summary = protocol['result']['report']['summary']
    row = [r for r in summary['sweep'] if r['split'] == 'test' and
           r['model'] == 'FineTec' and r['ratio'] == 0.5][0]
    per_seed = []
    for seed in SEEDS:
        cell = read_cell(_cell(protocol, 'FineTec', seed, 'test',
                               'random-0.5'))
        per_seed.append((cell['score'].argmax(1) == cell['label']).mean())
    assert row['top1'] == pytest.approx(np.mean(per_seed))
    assert row['top1_per_seed'] == pytest.approx(per_seed)
    boot = [r for r in summary['bootstrap'] if r['split'] == 'test'
            and r['ratio'] == 0.5][0]
    other = [r for r in summary['sweep'] if r['split'] == 'test' and
             r['model'] == 'ST-GCN++' and r['ratio'] == 0.5][0]
    assert boot['top1_diff'] == pytest.approx(row['top1'] - other['top1'])
    assert boot['top1_low'] <= boot['top1_diff'] <= boot['top1_high']


def test_second_call_trains_nothing_and_evaluates_only_what_is_missing(
        protocol):
    done_files = [osp.join(_run_dir(protocol, m, s), '.done')
                  for m in MODELS for s in SEEDS]
    cells = [_cell(protocol, m, s, sp, c) for m in MODELS for s in SEEDS
             for sp in SPLITS for c in CELLS]
    removed = _cell(protocol, 'ST-GCN++', 1, 'val', 'random-0.5')
    os.remove(removed)
    stamps = {p: os.stat(p).st_mtime_ns for p in done_files + cells
              if p != removed}
    lines = []
    result = run_protocol(load_spec(protocol['spec_file']),
                          protocol['work_dir'], jobs=1, log=lines.append)
    log = '\n'.join(lines)
    assert not result['failures']
    assert '4 runs (1 datasets x models x 2 seeds): 4 done' in log
    assert 'train:' not in log and 'sweep: 1 jobs' in log
    assert osp.isfile(removed)
    assert all(os.stat(p).st_mtime_ns == t for p, t in stamps.items())


def test_changed_spec_is_refused_as_stale(protocol, tmp_path):
    spec = load_spec(_spec_file(tmp_path, protocol['ann_file'],
                                'budget = dict(max_epochs=2)\n'))
    with pytest.raises(ProtocolError, match='--rerun-stale'):
        run_protocol(spec, protocol['work_dir'], jobs=1, log=lambda _: None)
    lines = []
    run_protocol(spec, protocol['work_dir'], dry_run=True, log=lines.append)
    assert '4 stale' in lines[0]


# ------------------------------------------------------------------ spec
@pytest.mark.parametrize('path', sorted(glob.glob(
    osp.join(REPO, 'configs', 'evidence', '*.py'))))
def test_shipped_specs_build_every_run_config(path, monkeypatch):
    # paths in the specs are relative to the repository root
    monkeypatch.chdir(REPO)
    spec = load_spec(path, check_data=False)
    runs, texts, completions = plan_runs(spec, 'work_dirs/evidence/check')
    assert len(runs) == len(spec.seeds) * sum(
        len(d.models) for d in spec.datasets)
    assert [m.name for d in spec.datasets for m in d.models
            if m.name == spec.reference]
    # every training-free ① of a dataset is one shared module
    assert len(completions) == len(spec.datasets)
    for run in runs:
        cfg = Config.fromstring(texts[run.run_dir], '.py')
        assert cfg.val_dataloader.dataset.split['subset'] == 'holdout'


def test_only_keeps_the_reference_model(synthetic_file, tmp_path):
    spec = load_spec(_spec_file(tmp_path, synthetic_file), seeds=[3],
                     only=['ST-GCN++'])
    assert [m.name for m in spec.datasets[0].models] == list(MODELS)
    assert spec.seeds == [3]
    with pytest.raises(ValueError, match="no such dataset or model"):
        load_spec(_spec_file(tmp_path, synthetic_file), only=['CTR-GCN'])


@pytest.mark.parametrize('extra, match', [
    ("datasets = dict(gymsynth=dict(ann_file=ANN, models=dict(X=("
     "'nope.py', {}))))", 'does not exist'),
    ("datasets = dict(gymsynth=dict(ann_file=ANN, models=dict(X=dict("
     f"config='{SPEC}', options={{}}))))", 'unknown keys'),
    ("datasets = dict(gymsynth=dict(ann_file=ANN, holdout=dict("
     "holdout=1.0)))", r'in \(0, 1\)'),
    ("datasets = dict(gymsynth=dict(ann_file='nope.pkl'))",
     'nope.pkl does not exist'),
    ("sweep = dict(splits=['train'])", 'sweep splits'),
    ("reference = 'CTR-GCN'", "no model named 'CTR-GCN'"),
    ("seeds = [0, 0]", 'distinct'),
])
def test_bad_specs_are_refused(synthetic_file, tmp_path, extra, match):
    extra = extra.replace('ANN', repr(synthetic_file))
    with pytest.raises((ValueError, FileNotFoundError), match=match):
        load_spec(_spec_file(tmp_path, synthetic_file, extra + '\n'))


def test_budget_stretches_the_cosine_schedule():
    cfg = Config(dict(
        train_cfg=dict(max_epochs=6, val_begin=1),
        param_scheduler=[
            dict(type='LinearLR', by_epoch=True, begin=0, end=2),
            dict(type='CosineAnnealingLR', T_max=6, by_epoch=True)]))
    apply_budget(cfg, dict(max_epochs=3))
    assert cfg.train_cfg.max_epochs == 3
    assert cfg.param_scheduler[1].T_max == 3
    assert cfg.param_scheduler[0].end == 2
    apply_budget(cfg, dict(max_epochs=1))
    assert cfg.param_scheduler[0].end == 1
    with pytest.raises(ValueError, match='cfg_options'):
        apply_budget(cfg, dict(max_epochs=2, lr=0.1))
