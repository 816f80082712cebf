"""Reliability: atomic checkpoints, kill-and-resume, checkpoint
compatibility checks, the corruption digest, bad input end to end."""
import builtins
import copy
import functools
import io
import json
import os
import os.path as osp
import pickle
import re
import signal
import subprocess
import sys
import time
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from mmengine.config import Config
from torch import nn

from e2e_utils import (REPO, TEST_CONFIGS, TOOLS, data_options,
                       last_checkpoint, run)
from finetec_mmaction.engine import (CheckpointCompatibilityHook,
                                     CorruptionDigestHook, corruption_digest)
from finetec_mmaction.utils import (CheckpointMismatchError,
                                    check_checkpoint_compatible)
from mmaction.registry import DATASETS, MODELS

TINY = osp.join(TEST_CONFIGS, 'stgcnpp_tiny_gymsynth.py')
TINY_ITER = osp.join(TEST_CONFIGS, 'stgcnpp_tiny_iter_gymsynth.py')
BASELINES = osp.join(REPO, 'configs', 'baselines', 'stgcnpp')


@functools.lru_cache()
def _config(path):
    return Config.fromfile(path)


def baseline(tag):
    name = f'stgcnpp_1xb32-joint-u48-15e_gymsynth-{tag}-keypoint-2d.py'
    return osp.join(BASELINES, name)


def tiny_model(num_classes=12, layout='coco'):
    cfg = copy.deepcopy(_config(TINY).model)
    cfg.cls_head.num_classes = num_classes
    cfg.backbone.graph_cfg.layout = layout
    torch.manual_seed(0)
    return MODELS.build(cfg)


def save_weights(model, path):
    torch.save({'meta': {}, 'state_dict': model.state_dict()}, str(path))
    return str(path)


def leftovers(folder):
    return [n for n in os.listdir(folder) if n.endswith('.tmp')]


# --------------------------------------------------------------------------
# 1. atomic checkpoint writes
# --------------------------------------------------------------------------
def _crashing_torch_save(real_save):
    """torch.save that writes half of the bytes, then fails (disk full)."""

    def save(obj, f, *args, **kwargs):
        buffer = io.BytesIO()
        real_save(obj, buffer)
        f.write(buffer.getvalue()[:len(buffer.getvalue()) // 2])
        raise OSError(28, 'No space left on device (simulated)')

    return save


def test_checkpoint_writes_go_through_a_temp_file(tmp_path, monkeypatch):
    import mmengine.hooks.checkpoint_hook as hook_module
    import mmengine.runner
    import mmengine.runner.checkpoint as checkpoint_module
    import mmengine.runner.runner as runner_module

    save = runner_module.save_checkpoint  # what Runner.save_checkpoint calls
    assert save._finetec_atomic
    assert checkpoint_module.save_checkpoint is save
    assert mmengine.runner.save_checkpoint is save

    path = str(tmp_path / 'epoch_1.pth')
    opened = []
    real_open, real_os_open = builtins.open, os.open

    def spy_open(file, mode='r', *args, **kwargs):
        if set(mode) & set('wax+'):
            opened.append(osp.abspath(os.fspath(file)))
        return real_open(file, mode, *args, **kwargs)

    def spy_os_open(file, flags, *args, **kwargs):
        if flags & (os.O_WRONLY | os.O_RDWR):
            opened.append(osp.abspath(os.fspath(file)))
        return real_os_open(file, flags, *args, **kwargs)

    monkeypatch.setattr(builtins, 'open', spy_open)
    monkeypatch.setattr(os, 'open', spy_os_open)
    save({'state_dict': {'w': torch.ones(3)}}, path)
    monkeypatch.undo()
    # written to a temp file beside it and renamed: the final name is never
    # open for writing, so a kill cannot leave a part of it there
    assert opened and path not in opened
    assert all(osp.dirname(p) == str(tmp_path) for p in opened)
    assert torch.load(path, weights_only=False)['state_dict']['w'].sum() == 3

    # a crash halfway through the next write of the same file
    monkeypatch.setattr(torch, 'save', _crashing_torch_save(torch.save))
    with pytest.raises(OSError, match='simulated'):
        save({'state_dict': {'w': torch.zeros(3)}}, path)
    monkeypatch.undo()
    assert torch.load(path, weights_only=False)['state_dict']['w'].sum() == 3
    assert os.listdir(tmp_path) == ['epoch_1.pth']

    # last_checkpoint (CheckpointHook writes it with the module's `open`)
    pointer = tmp_path / 'last_checkpoint'
    pointer.write_text('old')
    with pytest.raises(RuntimeError):
        with hook_module.open(str(pointer), 'w') as f:
            f.write('half')
            raise RuntimeError('killed')
    assert pointer.read_text() == 'old'
    with hook_module.open(str(pointer), 'w') as f:
        f.write('new')
    assert pointer.read_text() == 'new' and not leftovers(tmp_path)
    with hook_module.open(str(pointer)) as f:  # anything else: the builtin
        assert f.read() == 'new'


def _toy_runner(work_dir, max_epochs=3, validate=False, **checkpoint):
    """A real Runner + CheckpointHook on a one-layer model; with
    ``validate`` a metric that improves every epoch (a new best each
    time)."""
    from mmengine.evaluator import BaseMetric, Evaluator
    from mmengine.model import BaseModel
    from mmengine.runner import Runner
    from torch.utils.data import DataLoader

    class Toy(BaseModel):

        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(2, 1)

        def forward(self, inputs, data_samples=None, mode='tensor'):
            out = self.fc(inputs)
            return dict(loss=out.pow(2).mean()) if mode == 'loss' else out

    class EpochMetric(BaseMetric):

        def process(self, data_batch, data_samples):
            self.results.append(1)

        def compute_metrics(self, results):
            self.epoch = getattr(self, 'epoch', 0) + 1
            return dict(score=float(self.epoch))

    data = [dict(inputs=torch.randn(2)) for _ in range(4)]
    val = dict(val_dataloader=DataLoader(data, batch_size=2),
               val_cfg=dict(), val_evaluator=Evaluator([EpochMetric()])) \
        if validate else {}
    return Runner(
        model=Toy(),
        work_dir=str(work_dir),
        experiment_name=f'crash_{osp.basename(str(work_dir))}',
        train_dataloader=DataLoader(data, batch_size=2),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
        train_cfg=dict(by_epoch=True, max_epochs=max_epochs, val_interval=1),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=1,
                                           **checkpoint)),
        randomness=dict(seed=0),
        default_scope='mmaction',
        log_level='WARNING',
        **val)


def _save_then_crash(real_save, saves_that_succeed):
    calls = []

    def save(obj, f, *args, **kwargs):
        calls.append(1)
        if len(calls) <= saves_that_succeed:
            return real_save(obj, f, *args, **kwargs)
        return _crashing_torch_save(real_save)(obj, f)

    return save


@pytest.mark.parametrize('max_keep_ckpts', [-1, 1])
def test_crash_while_saving_keeps_the_last_checkpoint(tmp_path, monkeypatch,
                                                      max_keep_ckpts):
    """The save of epoch 2 fails halfway; last_checkpoint still names epoch
    1, which loads -- also with max_keep_ckpts=1, where mmengine alone
    deletes epoch 1 before it writes epoch 2."""
    runner = _toy_runner(tmp_path, max_keep_ckpts=max_keep_ckpts)
    monkeypatch.setattr(torch, 'save', _save_then_crash(torch.save, 1))
    with pytest.raises(OSError, match='simulated'):
        runner.train()
    monkeypatch.undo()

    assert last_checkpoint(tmp_path) == osp.join(str(tmp_path), 'epoch_1.pth')
    checkpoint = torch.load(last_checkpoint(tmp_path), weights_only=False)
    assert checkpoint['meta']['epoch'] == 1
    assert not osp.exists(tmp_path / 'epoch_2.pth')
    assert not leftovers(tmp_path)


def test_max_keep_ckpts_removes_old_checkpoints_after_the_new_one(tmp_path):
    """Without a crash max_keep_ckpts still holds: each old checkpoint goes,
    once its successor is on disk (and the previous best, once the new best
    is)."""
    from mmengine.fileio import LocalBackend
    runner = _toy_runner(tmp_path / 'a', max_keep_ckpts=1)
    runner.train()
    names = sorted(n for n in os.listdir(tmp_path / 'a') if n.endswith('.pth'))
    assert names == ['epoch_3.pth'], names

    runner = _toy_runner(tmp_path / 'b', validate=True, max_keep_ckpts=1,
                         save_best='score', rule='greater')
    real, existing = LocalBackend.remove, []

    def spy(self, path):
        # the file removed is never the newest: its successor exists
        existing.append(sorted(n for n in os.listdir(tmp_path / 'b')
                               if n.endswith('.pth')))
        return real(self, path)

    LocalBackend.remove = spy
    try:
        runner.train()
    finally:
        LocalBackend.remove = real
    names = sorted(n for n in os.listdir(tmp_path / 'b') if n.endswith('.pth'))
    assert names == ['best_score_epoch_3.pth', 'epoch_3.pth'], names
    # before each removal both the old and the new checkpoint were on disk
    assert existing and all(len(n) >= 3 for n in existing), existing


def test_crash_while_saving_a_new_best_keeps_the_old_best(tmp_path,
                                                          monkeypatch):
    """save_best: epoch 2 is a new best and its save fails; the best
    checkpoint of epoch 1 is still there (mmengine alone removes it first)."""
    runner = _toy_runner(tmp_path, validate=True, max_keep_ckpts=1,
                         save_best='score', rule='greater')
    # epoch 1: epoch_1.pth, best_score_epoch_1.pth, epoch_1.pth again (the
    # hook re-saves it to record the best); epoch 2: epoch_2.pth, then the
    # new best crashes
    monkeypatch.setattr(torch, 'save', _save_then_crash(torch.save, 4))
    with pytest.raises(OSError, match='simulated'):
        runner.train()
    monkeypatch.undo()
    names = sorted(n for n in os.listdir(tmp_path) if n.endswith('.pth'))
    assert 'best_score_epoch_1.pth' in names, names
    assert torch.load(tmp_path / 'best_score_epoch_1.pth',
                      weights_only=False)['meta']['epoch'] == 1
    assert not leftovers(tmp_path)


# --------------------------------------------------------------------------
# 2. kill mid-training, then --resume
# --------------------------------------------------------------------------
def test_kill_during_training_then_resume(synthetic_file, tmp_path):
    max_iters = _config(TINY_ITER).max_iters
    work_dir = str(tmp_path / 'work')
    args = [
        osp.join(TOOLS, 'train.py'), TINY_ITER, '--work-dir', work_dir,
        '--seed', '0', '--no-validate'
    ]
    data = ['--cfg-options',
            f'train_dataloader.dataset.dataset.ann_file={synthetic_file}']
    env = dict(os.environ, PYTHONUNBUFFERED='1', OMP_NUM_THREADS='1')
    with open(tmp_path / 'killed.log', 'w') as log:
        proc = subprocess.Popen([sys.executable] + args + data,
                                cwd=str(tmp_path), env=env, stdout=log,
                                stderr=subprocess.STDOUT)
        deadline = time.time() + 240
        pointer = osp.join(work_dir, 'last_checkpoint')
        while (proc.poll() is None and not osp.exists(pointer)
               and time.time() < deadline):
            time.sleep(0.02)
        still_training = proc.poll() is None
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert still_training, open(tmp_path / 'killed.log').read()[-3000:]
    # the pointer names a complete checkpoint, before the last iteration
    resume_from = last_checkpoint(work_dir)
    resumed_iter = torch.load(resume_from, weights_only=False)['meta']['iter']
    assert 0 < resumed_iter < max_iters
    assert not osp.exists(osp.join(work_dir, f'iter_{max_iters}.pth'))

    out = run(args + ['--resume'] + data, cwd=str(tmp_path))
    assert f'Auto resumed from the latest checkpoint {resume_from}' in out
    assert f'resumed epoch: 0, iter: {resumed_iter}' in out

    final = last_checkpoint(work_dir)
    assert osp.basename(final) == f'iter_{max_iters}.pth'
    checkpoint = torch.load(final, weights_only=False)
    # the iteration count of an uninterrupted run
    assert checkpoint['meta']['iter'] == max_iters
    # the scheduler went on from the checkpoint (a fresh one would have
    # stepped max_iters - resumed_iter times): its state and the lr are those
    # of the same scheduler stepped max_iters times without a break
    from mmengine.optim import CosineAnnealingLR
    cfg = _config(TINY_ITER)
    optimizer = torch.optim.Adam([nn.Parameter(torch.zeros(1))],
                                 lr=cfg.optim_wrapper.optimizer.lr)
    schedule = {k: v for k, v in cfg.param_scheduler[0].items() if k != 'type'}
    reference = CosineAnnealingLR(optimizer, end=max_iters, **schedule)
    for _ in range(max_iters):
        optimizer.step()
        reference.step()
    scheduler = checkpoint['param_schedulers'][0]
    for key in ('last_step', '_global_step'):
        assert scheduler[key] == reference.state_dict()[key], key
    assert checkpoint['optimizer']['param_groups'][0]['lr'] == pytest.approx(
        optimizer.param_groups[0]['lr'], rel=1e-6)
    # the optimizer state went on too: Adam counted every step of both runs
    states = checkpoint['optimizer']['state'].values()
    assert {float(state['step']) for state in states} == {float(max_iters)}


# --------------------------------------------------------------------------
# 3. checkpoint compatibility
# --------------------------------------------------------------------------
@pytest.fixture(scope='module')
def model_12():
    return tiny_model(num_classes=12)


def test_checkpoint_of_another_class_count(model_12, tmp_path):
    path = save_weights(tiny_model(num_classes=15), tmp_path / 'c15.pth')
    with pytest.raises(CheckpointMismatchError) as info:
        check_checkpoint_compatible(model_12, path)
    msg = str(info.value)
    assert path in msg
    assert 'checkpoint has 15 classes, config has 12' in msg
    assert 'cls_head.fc.weight: checkpoint (15, 8), config (12, 8)' in msg
    assert isinstance(info.value, ValueError)
    # fine-tuning from load_from to a new class count: a warning only
    check_checkpoint_compatible(model_12, path, allow_head_mismatch=True)
    # the same model's own checkpoint fits
    check_checkpoint_compatible(
        model_12, save_weights(model_12, tmp_path / 'own.pth'))


def test_checkpoint_of_another_skeleton_layout(model_12, tmp_path):
    path = save_weights(tiny_model(layout='nturgb+d'), tmp_path / 'ntu.pth')
    with pytest.raises(CheckpointMismatchError) as info:
        # not excused by allow_head_mismatch: the graph is another one
        check_checkpoint_compatible(model_12, path, allow_head_mismatch=True)
    msg = str(info.value)
    assert path in msg
    assert "checkpoint was trained on a 25-joint layout ('nturgb+d'), " \
           'config builds 17 joints' in msg
    assert 'backbone.gcn.0.gcn.A: checkpoint (3, 25, 25), config ' \
           '(3, 17, 17)' in msg


def test_weights_the_checkpoint_lacks_are_not_an_error(tmp_path):
    """Plug-and-play: a stock ST-GCN++ checkpoint in front of which the
    config puts a completion module (loaded from completion_checkpoint)."""
    cfg = copy.deepcopy(_config(
        osp.join(TEST_CONFIGS, 'plugplay_tiny_gymsynth.py')).model)
    cfg.completion_checkpoint = None
    plugplay = MODELS.build(cfg)
    classifier = copy.deepcopy(_config(
        osp.join(TEST_CONFIGS, 'stgcnpp_tiny_clean_gymsynth.py')).model)
    path = save_weights(MODELS.build(classifier), tmp_path / 'clean.pth')
    check_checkpoint_compatible(plugplay, path)


def test_completion_from_checkpoint_reads_no_bank_source(tmp_path):
    """The one place that points ①'s bank at a checkpoint: the model then
    builds although its bank's source file does not exist."""
    from finetec_mmaction.utils import completion_from_checkpoint
    from finetec_mmaction.utils.config import to_plain
    cfg = to_plain(_config(
        osp.join(TEST_CONFIGS, 'plugplay_tiny_gymsynth.py')).model)
    cfg['completion']['bank'] = dict(ann_file=str(tmp_path / 'gone.pkl'),
                                     split='train')
    cfg['completion_checkpoint'] = None
    with pytest.raises(Exception, match='gone.pkl'):
        MODELS.build(copy.deepcopy(cfg))
    assert completion_from_checkpoint(cfg, 'stage1.pth') is cfg
    assert cfg['completion']['bank'] is None
    assert cfg['completion_checkpoint'] == 'stage1.pth'
    cfg['completion_checkpoint'] = None
    MODELS.build(cfg)  # an empty bank, to be filled from a checkpoint
    stock = {'backbone': {}, 'completion_checkpoint': 'x.pth'}
    assert completion_from_checkpoint(dict(stock)) == stock


def test_skeleton_bank_size_follows_the_checkpoint(tmp_path):
    """The bank's number of sequences and T are data, adopted on load; its
    layout is not."""
    from finetec_mmaction.models.completion import SkeletonBank
    holder = nn.Module()
    holder.bank = SkeletonBank(num_joints=17, num_channels=3, clip_len=48)
    bank = torch.rand(5, 32, 17, 3)
    path = save_weights(nn.ModuleDict(dict(bank=SkeletonBank(bank))),
                        tmp_path / 'bank.pth')
    check_checkpoint_compatible(holder, path)
    holder.load_state_dict(torch.load(path)['state_dict'])
    assert torch.equal(holder.bank.sequences, bank)
    other = save_weights(
        nn.ModuleDict(dict(bank=SkeletonBank(torch.rand(5, 32, 25, 3)))),
        tmp_path / 'bank25.pth')
    empty = nn.Module()
    empty.bank = SkeletonBank(num_joints=17, num_channels=3, clip_len=48)
    with pytest.raises(CheckpointMismatchError, match='bank.sequences'):
        check_checkpoint_compatible(empty, other)


@pytest.mark.parametrize('case', ['truncated', 'text', 'no_state_dict',
                                  'other_model'])
def test_file_that_is_not_a_checkpoint_of_the_model(model_12, tmp_path, case):
    path = str(tmp_path / f'{case}.pth')
    if case == 'truncated':
        buffer = io.BytesIO()
        torch.save({'state_dict': model_12.state_dict()}, buffer)
        with open(path, 'wb') as f:
            f.write(buffer.getvalue()[:len(buffer.getvalue()) // 2])
        expected = 'is not a readable PyTorch checkpoint: it may be truncated'
    elif case == 'text':
        with open(path, 'w') as f:
            f.write('not a checkpoint\n')
        expected = 'is not a readable PyTorch checkpoint'
    elif case == 'no_state_dict':
        torch.save({'epoch': 3, 'notes': 'hello'}, path)
        expected = 'holds no model weights'
    else:  # e.g. a stage-1 completion checkpoint given to a recognizer
        torch.save({'state_dict': {'completion.mlp.weight': torch.ones(2)}},
                   path)
        expected = 'none of its 1 weight names'
    with pytest.raises(CheckpointMismatchError) as info:
        check_checkpoint_compatible(model_12, path)
    assert path in str(info.value) and expected in str(info.value)


def test_checkpoint_hook_checks_what_load_or_resume_will_load(
        model_12, tmp_path):
    from mmengine.runner import BaseLoop
    good = save_weights(model_12, tmp_path / 'iter_4.pth')
    wrong = save_weights(tiny_model(num_classes=15), tmp_path / 'c15.pth')
    logger = SimpleNamespace(warning=lambda msg: None)

    class Loop(BaseLoop):  # a built train loop: Runner.train() is running

        def run(self):
            pass

    def runner(load_from, resume=False, train=False):
        return SimpleNamespace(
            model=model_12, _load_from=load_from, _resume=resume,
            _has_loaded=False, work_dir=str(tmp_path), logger=logger,
            _train_loop=object.__new__(Loop) if train else {})

    hook = CheckpointCompatibilityHook()
    with pytest.raises(CheckpointMismatchError, match='15 classes'):
        hook.before_run(runner(wrong))  # testing
    hook.before_run(runner(wrong, train=True))  # fine-tuning from load_from
    with pytest.raises(CheckpointMismatchError, match='15 classes'):
        hook.before_run(runner(wrong, resume=True, train=True))
    # auto-resume: the checkpoint named by the work dir's last_checkpoint
    (tmp_path / 'last_checkpoint').write_text(wrong)
    with pytest.raises(CheckpointMismatchError, match='15 classes'):
        hook.before_run(runner(None, resume=True, train=True))
    (tmp_path / 'last_checkpoint').write_text(good)
    hook.before_run(runner(None, resume=True, train=True))
    hook.before_run(runner(None))  # nothing to load
    checked = runner(wrong)  # already checked by the tools: not again
    checked._finetec_checked_checkpoint = wrong
    hook.before_run(checked)


# --------------------------------------------------------------------------
# 4. corruption digest
# --------------------------------------------------------------------------
def dataset_cfg(config, ann_file, **corruption):
    cfg = copy.deepcopy(_config(config).test_dataloader.dataset)
    cfg.ann_file = ann_file
    cfg.pipeline[1].update(corruption)
    return cfg


def test_corruption_digest_is_the_same_for_every_method(synthetic_file):
    def digest(config, **corruption):
        return corruption_digest(DATASETS.build(
            dataset_cfg(config, synthetic_file, **corruption)))

    rng_state = np.random.get_state()[1].copy()
    zero_fill = digest(baseline('moderate'))
    assert zero_fill['num_samples'] == 8 and len(zero_fill['digest']) == 64
    assert (zero_fill['strategy'], zero_fill['ratio']) == ('random',
                                                           'moderate')
    # a restoration after the corruption does not change which frames miss
    assert digest(baseline('interp'), ratio='moderate') == zero_fill
    # another ratio, strategy or seed does
    others = {digest(baseline('moderate'), ratio='severe')['digest'],
              digest(baseline('moderate'), strategy='burst')['digest'],
              digest(baseline('moderate'), seed=1)['digest']}
    assert len(others) == 3 and zero_fill['digest'] not in others
    # wrappers: a repeated dataset counts once, a concatenation twice
    base = dataset_cfg(baseline('moderate'), synthetic_file)
    assert corruption_digest(DATASETS.build(
        dict(type='RepeatDataset', times=3, dataset=base))) == zero_fill
    both = corruption_digest(DATASETS.build(dict(
        type='ConcatDataset',
        datasets=[base, dataset_cfg(baseline('interp'), synthetic_file,
                                    ratio='moderate')])))
    assert both['num_samples'] == 16 and both['digest'] != zero_fill['digest']
    # no TemporalCorruption: no digest; training corruption: not test_mode
    clean = dataset_cfg(baseline('moderate'), synthetic_file)
    del clean.pipeline[1]
    assert corruption_digest(DATASETS.build(clean)) is None
    train = copy.deepcopy(
        _config(baseline('moderate')).train_dataloader.dataset)
    train.dataset.ann_file = synthetic_file
    assert corruption_digest(DATASETS.build(train))['digest'] is None
    # the run's random state is left alone
    assert (np.random.get_state()[1] == rng_state).all()


def test_corruption_digest_hook_logs_and_records(synthetic_file):
    from mmengine.logging import MessageHub

    lines = []
    logger = SimpleNamespace(info=lines.append, warning=lines.append)
    hub = MessageHub.get_instance('test_corruption_digest_hook')

    def runner(corrupt=True):
        cfg = dataset_cfg(baseline('moderate'), synthetic_file)
        if not corrupt:
            del cfg.pipeline[1]
        dataset = DATASETS.build(cfg)
        loop = SimpleNamespace(dataloader=SimpleNamespace(dataset=dataset))
        return SimpleNamespace(logger=logger, message_hub=hub, test_loop=loop,
                               val_loop=loop)

    hook = CorruptionDigestHook()
    hook.before_test_epoch(runner())
    expected = corruption_digest(
        DATASETS.build(dataset_cfg(baseline('moderate'), synthetic_file)))
    assert lines[-1] == (f'corruption digest {expected["digest"]} over 8 '
                         'samples (strategy=random, ratio=moderate)')
    assert hub.get_info('test/corruption_digest') == expected['digest']
    hook.before_val_epoch(runner(corrupt=False))
    assert lines[-1] == ('corruption digest (val): no TemporalCorruption in '
                         'the val pipeline')


# --------------------------------------------------------------------------
# 3, 4 and 5 through tools/test.py: reproducible metrics and digest with a
# bad sample skipped (skip_invalid=True); a checkpoint of another class
# count and a bad sample (by default) stop the tool with a clear error
# --------------------------------------------------------------------------
BROKEN = 'synthgym_test_c001_0000'


@pytest.fixture(scope='module')
def broken_file(synthetic_file, tmp_path_factory):
    """The synthetic data with a NaN in one test sample: (path, index)."""
    with open(synthetic_file, 'rb') as f:
        data = pickle.load(f)
    index = [a['frame_dir'] for a in data['annotations']].index(BROKEN)
    data['annotations'][index]['keypoint'][0, 3, 5, 0] = np.nan
    path = tmp_path_factory.mktemp('broken') / 'one_nan.pkl'
    with open(path, 'wb') as f:
        pickle.dump(data, f)
    return str(path), index


@pytest.fixture(scope='module')
def tool_runs(synthetic_file, broken_file, model_12, tmp_path_factory):
    """The tools/test.py runs of the tests below, started together (they
    are independent, and mostly import time): name -> (returncode, output,
    work dir, checkpoint)."""
    folder = tmp_path_factory.mktemp('tool_runs')
    good = save_weights(model_12, folder / 'tiny.pth')
    wrong = save_weights(tiny_model(num_classes=15), folder / 'c15.pth')
    broken, _ = broken_file
    skip = ['test_dataloader.dataset.skip_invalid=True']
    cases = {
        'repeat0': (good, data_options(broken) + skip),
        'repeat1': (good, data_options(broken) + skip),
        'wrong_classes': (wrong, data_options(synthetic_file)),
        'bad_sample': (good, data_options(broken)),
    }
    env = dict(os.environ, PYTHONUNBUFFERED='1', OMP_NUM_THREADS='1')
    procs = {}
    for name, (checkpoint, options) in cases.items():
        work_dir = str(folder / name)
        log = open(folder / f'{name}.log', 'w')
        procs[name] = (subprocess.Popen(
            [sys.executable, osp.join(TOOLS, 'test.py'), TINY, checkpoint,
             '--work-dir', work_dir, '--cfg-options'] + options,
            cwd=str(folder), env=env, stdout=log, stderr=subprocess.STDOUT),
            log, work_dir, checkpoint)
    runs = {}
    try:
        for name, (proc, log, work_dir, checkpoint) in procs.items():
            proc.wait(timeout=300)
            log.close()
            with open(folder / f'{name}.log') as f:
                runs[name] = (proc.returncode, f.read(), work_dir, checkpoint)
    finally:
        for proc, log, _, _ in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            log.close()
    return runs


def test_test_tool_twice_gives_the_same_metrics_and_digest(
        tool_runs, broken_file):
    path, index = broken_file
    expected = corruption_digest(DATASETS.build(dict(
        dataset_cfg(TINY, path), skip_invalid=True)))
    results = []
    for name in ('repeat0', 'repeat1'):
        returncode, out, work_dir, _ = tool_runs[name]
        assert returncode == 0, out[-6000:]
        # the bad sample is skipped and counted in the log
        assert 'skipped 1 invalid of 8 samples' in out
        assert f'sample {index} ({BROKEN}): non-finite values (NaN)' in out
        # the digest is logged, and recorded with the metrics
        assert (f'corruption digest {expected["digest"]} over 7 samples '
                '(strategy=random, ratio=moderate)') in out
        line = [x for x in out.splitlines() if 'Epoch(test)' in x][-1]
        metrics = dict(re.findall(r'(acc/\w+): ([\d.]+)', line))
        digest = re.search(r'corruption_digest: ([0-9a-f]{64})', line)
        assert len(metrics) == 3 and digest, line
        saved = [osp.join(root, name) for root, _, names in os.walk(work_dir)
                 for name in names if name.endswith('.json')]
        with open(saved[0]) as f:
            assert json.load(f)['corruption_digest'] == expected['digest']
        results.append((metrics, digest.group(1)))
    assert results[0] == results[1]
    assert results[0][1] == expected['digest']


def test_test_tool_refuses_a_checkpoint_of_another_class_count(tool_runs):
    returncode, out, _, checkpoint = tool_runs['wrong_classes']
    assert returncode != 0
    assert 'CheckpointMismatchError' in out
    assert (f'{checkpoint} does not fit the model of this config: checkpoint '
            'has 15 classes, config has 12') in out
    assert 'Epoch(test)' not in out


def test_test_tool_names_a_bad_sample(tool_runs, broken_file):
    path, index = broken_file
    returncode, out, _, _ = tool_runs['bad_sample']
    assert returncode != 0
    assert 'InvalidSampleError' in out
    assert (f"{path}: sample {index} (frame_dir '{BROKEN}'): non-finite "
            'values (NaN) in "keypoint"') in out


def test_atomic_path_renames_on_success_and_leaves_nothing_on_failure(
        tmp_path):
    """The writer behind the ONNX export and the MP4 animation: a file-name
    writer sees a temporary path; the destination appears only complete."""
    from finetec_mmaction.utils.io import atomic_path
    out = tmp_path / 'sub' / 'model.onnx'
    with atomic_path(str(out), suffix='.onnx') as tmp:
        assert tmp.endswith('.onnx') and osp.dirname(tmp) == str(out.parent)
        with open(tmp, 'w') as f:
            f.write('complete')
    assert out.read_text() == 'complete'
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask  # not mkstemp's 0600
    with pytest.raises(RuntimeError, match='writer died'):
        with atomic_path(str(out), suffix='.onnx') as tmp:
            with open(tmp, 'w') as f:
                f.write('half')
            raise RuntimeError('writer died')
    assert out.read_text() == 'complete'  # the old file is untouched
    assert os.listdir(out.parent) == ['model.onnx']  # no temp file left
