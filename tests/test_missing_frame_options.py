"""``--missing-ratio`` / ``--missing-strategy``: one function sets every
``TemporalCorruption`` of a config's loaders, however deeply its dataset is
wrapped; a config without one is refused by name. (The train / test tools
with these flags run end to end in test_tools_e2e.py.)"""
import copy
import os.path as osp

import pytest
from mmengine.config import Config

from e2e_utils import TEST_CONFIGS, TOOLS, run
from finetec_mmaction.utils.config import (LOADERS, parse_missing_ratio,
                                           set_missing_frames, type_name)

# train: RepeatDataset(SafePoseDataset), val / test: SafePoseDataset
TINY = osp.join(TEST_CONFIGS, 'stgcnpp_tiny_gymsynth.py')
CLEAN = osp.join(TEST_CONFIGS, 'stgcnpp_tiny_clean_gymsynth.py')


def corruptions(node):
    if isinstance(node, dict):
        found = [node] if type_name(node) == 'TemporalCorruption' else []
        return found + [c for v in node.values() for c in corruptions(v)]
    if isinstance(node, (list, tuple)):
        return [c for v in node for c in corruptions(v)]
    return []


def test_sets_every_loader_through_dataset_wrappers():
    cfg = Config.fromfile(TINY)
    # a ConcatDataset of two wrapped copies in the test loader too
    test = copy.deepcopy(cfg.test_dataloader.dataset)
    cfg.test_dataloader.dataset = dict(
        type='ConcatDataset',
        datasets=[test, dict(type='RepeatDataset', times=2, dataset=test)])
    before = corruptions(cfg.train_dataloader)[0]
    assert (before.ratio, before.strategy) == ('moderate', 'random')

    assert set_missing_frames(cfg, 'moderate', 'burst') == list(LOADERS)
    found = {key: corruptions(cfg[key]) for key in LOADERS}
    assert [len(v) for v in found.values()] == [1, 1, 2]
    for transform in sum(found.values(), []):
        assert (transform.ratio, transform.strategy) == ('moderate', 'burst')
    # test-time determinism and the other options are kept
    assert [t.test_mode for t in found['test_dataloader']] == [True, True]
    assert not found['train_dataloader'][0].get('test_mode')


def test_one_of_the_two_and_a_range():
    cfg = Config.fromfile(TINY)
    set_missing_frames(cfg, strategy='motion', loaders=('test_dataloader', ))
    test = corruptions(cfg.test_dataloader)[0]
    train = corruptions(cfg.train_dataloader)[0]
    assert (test.ratio, test.strategy) == ('moderate', 'motion')
    # not in the loaders asked for (and not shared with the test loader)
    assert train.strategy == 'random'
    assert corruptions(cfg.val_dataloader)[0].strategy == 'random'
    set_missing_frames(cfg, ratio=[0.1, 0.3])
    assert corruptions(cfg.train_dataloader)[0].ratio == (0.1, 0.3)
    assert corruptions(cfg.test_dataloader)[0].strategy == 'motion'
    assert set_missing_frames(cfg) == []  # nothing asked, nothing walked


def test_clean_config_and_bad_values_are_refused():
    cfg = Config.fromfile(CLEAN)
    with pytest.raises(ValueError, match=r'stgcnpp_tiny_clean_gymsynth\.py: '
                       r'no TemporalCorruption .*train_dataloader'):
        set_missing_frames(cfg, 'severe')
    cfg = Config.fromfile(TINY)
    cfg.val_dataloader = None  # --no-validate
    assert set_missing_frames(cfg, 0.5) == ['train_dataloader',
                                            'test_dataloader']
    with pytest.raises(ValueError, match='must lie in'):
        set_missing_frames(cfg, 1.5)
    with pytest.raises(ValueError, match='Unknown strategy'):
        set_missing_frames(cfg, strategy='sometimes')
    with pytest.raises(ValueError, match='severity level'):
        set_missing_frames(cfg, 'awful')


@pytest.mark.parametrize('text, value', [
    ('0.75', 0.75), ('severe', 'severe'), ('0,0.9', (0.0, 0.9)),
    (' 0.2 , 0.8 ', (0.2, 0.8))])
def test_parse_missing_ratio(text, value):
    assert parse_missing_ratio(text) == value


@pytest.mark.parametrize('text, match', [
    ('1.5', 'must lie in'), ('0.8,0.2', 'low <= high'),
    ('0.1,0.2,0.3', 'LOW,HIGH'), ('half', 'severity level'),
    ('a,b', 'LOW,HIGH')])
def test_parse_missing_ratio_refuses(text, match):
    with pytest.raises(ValueError, match=match):
        parse_missing_ratio(text)


def test_test_tool_refuses_a_clean_config(tmp_path):
    """Before any checkpoint or data is read."""
    out = run([osp.join(TOOLS, 'test.py'), CLEAN, 'no_such.pth',
               '--missing-ratio', 'severe'], cwd=str(tmp_path),
              expect_ok=False)
    assert 'error: ' in out and 'no TemporalCorruption' in out
    assert 'Checkpoint not found' not in out
    out = run([osp.join(TOOLS, 'train.py'), TINY, '--missing-ratio', '2'],
              cwd=str(tmp_path), expect_ok=False)
    assert 'argument --missing-ratio: A missing ratio must lie in' in out
