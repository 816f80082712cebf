"""End-to-end: the train/test tools (ours and MMAction2's stock script) on
the synthetic Gym-format data with a tiny ST-GCN++."""
import json
import os
import os.path as osp
import re
import subprocess
import sys

from mmengine.config import Config

from e2e_utils import (TEST_CONFIGS, TOOLS, data_options, last_checkpoint,
                       run)

TINY_CONFIG = osp.join(TEST_CONFIGS, 'stgcnpp_tiny_gymsynth.py')


def test_train_then_test_with_our_tools(synthetic_file, tmp_path):
    work_dir = str(tmp_path / 'work')
    # --missing-ratio / --missing-strategy reach the (RepeatDataset-wrapped)
    # training set and the validation set: the digest hook logs the latter
    out = run([osp.join(TOOLS, 'train.py'), TINY_CONFIG, '--work-dir',
               work_dir, '--seed', '0', '--missing-ratio', 'severe',
               '--missing-strategy', 'in-between', '--cfg-options'] +
              data_options(synthetic_file), cwd=str(tmp_path))
    assert '(strategy=in-between, ratio=severe)' in out
    ran = Config.fromfile(osp.join(work_dir, 'stgcnpp_tiny_gymsynth.py'))
    for dataset in (ran.train_dataloader.dataset.dataset,
                    ran.val_dataloader.dataset, ran.test_dataloader.dataset):
        assert dataset.pipeline[1].type == 'TemporalCorruption'
        assert (dataset.pipeline[1].ratio,
                dataset.pipeline[1].strategy) == ('severe', 'in-between')
    checkpoint = last_checkpoint(work_dir)
    assert osp.basename(checkpoint) == 'epoch_2.pth'

    dump = str(tmp_path / 'predictions.pkl')
    out = run([osp.join(TOOLS, 'test.py'), TINY_CONFIG, checkpoint,
               '--work-dir', str(tmp_path / 'test'), '--dump', dump,
               '--missing-ratio', '0.25', '--missing-strategy', 'burst',
               '--cfg-options'] + data_options(synthetic_file),
              cwd=str(tmp_path))
    assert 'acc/top1' in out
    assert '(strategy=burst, ratio=0.25)' in out
    assert osp.getsize(dump) > 0
    # the metrics land in the work dir as JSON
    found = [osp.join(root, name)
             for root, _, names in os.walk(tmp_path / 'test')
             for name in names if name.endswith('.json')]
    metrics = json.load(open(found[0]))
    assert 0.0 <= metrics['acc/top1'] <= 1.0


def test_test_tool_names_a_missing_checkpoint(tmp_path):
    out = run([osp.join(TOOLS, 'test.py'), TINY_CONFIG,
               str(tmp_path / 'nope.pth')], cwd=str(tmp_path),
              expect_ok=False)
    assert 'Checkpoint not found' in out and 'nope.pth' in out


def test_stock_mmaction_train_script_runs_a_finetec_config(
        synthetic_file, tmp_path):
    import mmaction
    stock_train = osp.join(osp.dirname(mmaction.__file__), '.mim', 'tools',
                           'train.py')
    work_dir = str(tmp_path / 'work')
    run([stock_train, TINY_CONFIG, '--work-dir', work_dir, '--cfg-options',
         'train_cfg.max_epochs=1'] + data_options(synthetic_file),
        cwd=str(tmp_path))
    assert osp.exists(osp.join(work_dir, 'epoch_1.pth'))


def test_dist_train_and_test_with_two_processes(synthetic_file, tmp_path):
    """torchrun + DDP (gloo on CPU): 2-process metrics equal 1-process ones."""
    env = dict(os.environ, OMP_NUM_THREADS='1', PORT='29533',
               PYTHON=sys.executable)
    work_dir = str(tmp_path / 'work')
    train = subprocess.run(
        ['bash', osp.join(TOOLS, 'dist_train.sh'), TINY_CONFIG, '2',
         '--work-dir', work_dir, '--seed', '0', '--cfg-options'] +
        data_options(synthetic_file), cwd=str(tmp_path), env=env,
        capture_output=True, text=True, timeout=300)
    assert train.returncode == 0, train.stderr[-3000:]
    checkpoint = last_checkpoint(work_dir)

    test = subprocess.run(
        ['bash', osp.join(TOOLS, 'dist_test.sh'), TINY_CONFIG, checkpoint,
         '2', '--work-dir', str(tmp_path / 'dist_test'), '--cfg-options'] +
        data_options(synthetic_file), cwd=str(tmp_path), env=env,
        capture_output=True, text=True, timeout=300)
    assert test.returncode == 0, test.stderr[-3000:]
    single = run([osp.join(TOOLS, 'test.py'), TINY_CONFIG, checkpoint,
                  '--work-dir', str(tmp_path / 'test'), '--cfg-options'] +
                 data_options(synthetic_file), cwd=str(tmp_path))

    def metrics(log):
        found = re.findall(r'Epoch\(test\).*?(acc/top1: [\d.]+\s+acc/top5: '
                           r'[\d.]+\s+acc/mean1: [\d.]+)', log)
        assert found, log[-2000:]
        return found[-1]

    assert metrics(test.stdout + test.stderr) == metrics(single)
