import os.path as osp

import pytest
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
