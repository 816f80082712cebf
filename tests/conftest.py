import os.path as osp

import pytest
import torch
from mmengine.registry import init_default_scope

import finetec_mmaction  # noqa: F401  (compat fixes + registration first)

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
# CI clones the repo with shared/ beside it
SHARED_DATA = osp.join(osp.dirname(REPO_ROOT), 'shared', 'data')
PENN_ACTION = osp.join(SHARED_DATA, 'penn_action', 'penn_action_coco17_2d.pkl')

# stock transforms are looked up in MMAction2's scope, as in a config
init_default_scope('mmaction')


@pytest.fixture
def penn_action_file():
    if not osp.exists(PENN_ACTION):
        pytest.skip('Penn Action is not beside the repo (../shared/data)')
    return PENN_ACTION


@pytest.fixture(scope='session')
def synthetic_file(tmp_path_factory):
    """A small synthetic Gym-format pickle shared by the end-to-end tests."""
    from finetec_mmaction.datasets.synthetic import write_synthetic_gym
    path = tmp_path_factory.mktemp('data') / 'gym_synthetic.pkl'
    write_synthetic_gym(str(path), num_classes=4, train_per_class=4,
                        test_per_class=2, seed=0)
    return str(path)


@pytest.fixture(autouse=True)
def one_torch_thread():
    """In-process model calls on one thread, like the tool subprocesses
    (OMP_NUM_THREADS=1): OpenMP threads spin badly on a busy 2-core CI."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope='session')
def stage1_dir(synthetic_file, tmp_path_factory):
    """A tiny stage-1 (completion pre-training) run through tools/train.py,
    shared by the tests that need a completion checkpoint."""
    from e2e_utils import TEST_CONFIGS, TOOLS, data_options, run
    work_dir = str(tmp_path_factory.mktemp('stage1'))
    run([osp.join(TOOLS, 'train.py'),
         osp.join(TEST_CONFIGS, 'completion_tiny_gymsynth.py'), '--work-dir',
         work_dir, '--seed', '0', '--cfg-options',
         f'model.completion.bank.ann_file={synthetic_file}'] +
        data_options(synthetic_file), cwd=work_dir)
    return work_dir
