"""End-to-end: the train/test tools (ours and MMAction2's stock script) on
the synthetic Gym-format data with a tiny ST-GCN++."""
import json
import os
import os.path as osp
import subprocess
import sys

import pytest

from finetec_mmaction.datasets.synthetic import write_synthetic_gym

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
TINY_CONFIG = osp.join(REPO, 'tests', 'configs', 'stgcnpp_tiny_gymsynth.py')


def data_options(ann_file):
    return [f'{loader}.dataset.ann_file={ann_file}'
            for loader in ('train_dataloader', 'val_dataloader',
                           'test_dataloader')]


def run(args, cwd):
    env = dict(os.environ, PYTHONUNBUFFERED='1', OMP_NUM_THREADS='1')
    proc = subprocess.run([sys.executable] + args, cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout + proc.stderr


@pytest.fixture(scope='module')
def synthetic_file(tmp_path_factory):
    path = tmp_path_factory.mktemp('data') / 'gym_synthetic.pkl'
    write_synthetic_gym(str(path), num_classes=4, train_per_class=4,
                        test_per_class=2, seed=0)
    return str(path)


def last_checkpoint(work_dir):
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        return f.read().strip()


def test_train_then_test_with_our_tools(synthetic_file, tmp_path):
    work_dir = str(tmp_path / 'work')
    run([osp.join(REPO, 'tools', 'train.py'), TINY_CONFIG, '--work-dir',
         work_dir, '--seed', '0', '--cfg-options'] +
        data_options(synthetic_file), cwd=str(tmp_path))
    checkpoint = last_checkpoint(work_dir)
    assert osp.basename(checkpoint) == 'epoch_2.pth'

    dump = str(tmp_path / 'predictions.pkl')
    out = run([osp.join(REPO, 'tools', 'test.py'), TINY_CONFIG, checkpoint,
               '--work-dir', str(tmp_path / 'test'), '--dump', dump,
               '--cfg-options'] + data_options(synthetic_file),
              cwd=str(tmp_path))
    assert 'acc/top1' in out
    assert osp.getsize(dump) > 0
    # the metrics land in the work dir as JSON
    found = [osp.join(root, name)
             for root, _, names in os.walk(tmp_path / 'test')
             for name in names if name.endswith('.json')]
    metrics = json.load(open(found[0]))
    assert 0.0 <= metrics['acc/top1'] <= 1.0


def test_test_tool_names_a_missing_checkpoint(synthetic_file, tmp_path):
    env = dict(os.environ, OMP_NUM_THREADS='1')
    proc = subprocess.run(
        [sys.executable, osp.join(REPO, 'tools', 'test.py'), TINY_CONFIG,
         str(tmp_path / 'nope.pth')], capture_output=True, text=True,
        env=env, timeout=120)
    assert proc.returncode != 0
    assert 'Checkpoint not found' in proc.stderr
    assert 'nope.pth' in proc.stderr


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
