"""Helpers of the end-to-end tests that run the tools in subprocesses."""
import importlib.util
import json
import os
import os.path as osp
import subprocess
import sys

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
TOOLS = osp.join(REPO, 'tools')
TEST_CONFIGS = osp.join(REPO, 'tests', 'configs')


def data_options(ann_file):
    """Point a generated config's loaders (train: RepeatDataset) at a file."""
    return [f'{key}.ann_file={ann_file}'
            for key in ('train_dataloader.dataset.dataset',
                        'val_dataloader.dataset', 'test_dataloader.dataset')]


def run(args, cwd, expect_ok=True, timeout=300):
    """Run ``python ARGS``; return stdout + stderr (asserting success)."""
    env = dict(os.environ, PYTHONUNBUFFERED='1', OMP_NUM_THREADS='1')
    proc = subprocess.run([sys.executable] + list(args), cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)
    output = proc.stdout + proc.stderr
    if expect_ok:
        assert proc.returncode == 0, output[-6000:]
    else:
        assert proc.returncode != 0, output[-3000:]
    return output


def last_checkpoint(work_dir):
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        return f.read().strip()


def scalars(work_dir):
    """The logged scalars of a run (mmengine's ``vis_data/scalars.json``)."""
    for root, _, names in os.walk(work_dir):
        if 'scalars.json' in names and root.endswith('vis_data'):
            with open(osp.join(root, 'scalars.json')) as f:
                return [json.loads(line) for line in f if line.strip()]
    raise FileNotFoundError(f'no vis_data/scalars.json under {work_dir}')


def load_tool(*parts):
    """Import a script under tools/ as a module (to call its ``main``)."""
    path = osp.join(TOOLS, *parts)
    name = 'tool_' + osp.splitext(parts[-1])[0]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
