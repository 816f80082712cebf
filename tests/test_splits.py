"""The validation part carved from a training split
(finetec_mmaction.datasets.splits): reproducible, stratified, disjoint, the
union is the split, clear errors; used by SafePoseDataset and the skeleton
bank through their ``split``."""
import copy
import pickle
from collections import Counter

import numpy as np
import pytest
from mmengine.config import Config

from finetec_mmaction.datasets import (SafePoseDataset, carve_holdout,
                                       describe_split, holdout_split,
                                       make_synthetic_gym, select_split)
from finetec_mmaction.models.completion.bank import SkeletonBank


def _ids(annos):
    return [a['frame_dir'] for a in annos]


@pytest.fixture(scope='module')
def data():
    # 5 classes x 7 training samples
    return make_synthetic_gym(num_classes=5, train_per_class=7,
                              test_per_class=1, seed=0)


def _part(data, subset, holdout=0.3, seed=0):
    return select_split(data, holdout_split('train', holdout, seed, subset),
                        'f.pkl')


def test_parts_are_disjoint_and_make_up_the_split(data):
    train, train_idx = _part(data, 'train')
    held, held_idx = _part(data, 'holdout')
    full, full_idx = select_split(data, 'train', 'f.pkl')
    assert not set(_ids(train)) & set(_ids(held))
    assert sorted(_ids(train) + _ids(held)) == sorted(_ids(full))
    assert sorted(train_idx + held_idx) == sorted(full_idx)
    # indices point into the file
    annos = data['annotations']
    assert all(annos[i] is a for i, a in zip(held_idx, held))


def test_carve_is_stratified_by_class(data):
    held, _ = _part(data, 'holdout', holdout=0.3)
    # round(0.3 * 7) = 2 per class
    assert Counter(a['label'] for a in held) == {c: 2 for c in range(5)}


def test_carve_is_reproducible_and_follows_the_seed(data):
    first = _ids(_part(data, 'holdout', seed=0)[0])
    assert _ids(_part(copy.deepcopy(data), 'holdout', seed=0)[0]) == first
    # another seed, another carve (each class of 7 has 21 possible pairs)
    carves = {tuple(sorted(_ids(_part(data, 'holdout', seed=s)[0])))
              for s in range(4)}
    assert len(carves) == 4


def test_carve_does_not_depend_on_the_file_order(data):
    shuffled = copy.deepcopy(data)
    rng = np.random.default_rng(1)
    shuffled['annotations'] = [shuffled['annotations'][i] for i in
                               rng.permutation(len(shuffled['annotations']))]
    assert sorted(_ids(_part(shuffled, 'holdout')[0])) == sorted(
        _ids(_part(data, 'holdout')[0]))


def test_small_classes_keep_a_sample_on_each_side():
    ids = ['a0', 'b0', 'b1', 'c0', 'c1', 'c2']
    labels = [0, 1, 1, 2, 2, 2]
    # 0.15 of 1, 2, 3 samples rounds to 0: a class of one stays in
    # training, larger ones give one sample to the holdout
    held = carve_holdout(ids, labels, 0.15)
    assert held.tolist()[0] is False
    assert held[1:3].sum() == 1 and held[3:].sum() == 1
    # 0.9 of 2 would take both: one stays
    assert carve_holdout(ids, labels, 0.9)[1:3].sum() == 1


def test_carve_of_penn_action(penn_action_file):
    with open(penn_action_file, 'rb') as f:
        data = pickle.load(f)
    held, _ = select_split(data, holdout_split(holdout=0.15, subset='holdout'),
                           penn_action_file)
    train, _ = select_split(data, holdout_split(holdout=0.15),
                            penn_action_file)
    assert len(held) + len(train) == 1258
    per_class = Counter(a['label'] for a in select_split(
        data, 'train', penn_action_file)[0])
    counts = Counter(a['label'] for a in held)
    assert counts == {c: int(np.floor(0.15 * n + 0.5))
                      for c, n in per_class.items()}
    assert not set(_ids(held)) & set(data['split']['test'])


@pytest.mark.parametrize('spec, match', [
    (dict(split='train', holdout=0.0), r'in \(0, 1\)'),
    (dict(split='train', holdout=1.5), r'in \(0, 1\)'),
    (dict(split='train', holdout=True), r'in \(0, 1\)'),
    (dict(split='train', seed=0.5), '"seed" must be an int'),
    (dict(split='train', subset='val'), '"subset" must be one of'),
    (dict(split='train', fraction=0.2), 'got keys'),
    (dict(holdout=0.2), 'got keys'),
    (dict(split=3), '"split" must name a split'),
    (dict(split='train', group='s(\\d'), '"group" must be a regular'),
    (dict(split='train', group='^nobody'), 'does not match its frame_dir'),
])
def test_bad_holdout_splits_are_refused_naming_the_file(data, spec, match):
    with pytest.raises(ValueError, match=match) as err:
        select_split(data, spec, 'my_file.pkl')
    assert 'my_file.pkl' in str(err.value)


def test_unknown_base_split_lists_the_available_ones(data):
    with pytest.raises(KeyError, match=r"'val'.*\['test', 'train'\]"):
        select_split(data, dict(split='val'), 'f.pkl')


def test_repeated_ids_are_refused(data):
    broken = copy.deepcopy(data)
    twin = broken['annotations'][0]['frame_dir']
    broken['annotations'][1]['frame_dir'] = twin
    broken['split']['train'][1] = twin
    with pytest.raises(ValueError, match='repeated ids'):
        select_split(broken, dict(split='train', holdout=0.3), 'f.pkl')


def test_safe_pose_dataset_and_bank_take_a_holdout_split(synthetic_file):
    # as written in a config (ConfigDict values)
    cfg = Config(dict(split=dict(split='train', holdout=0.25, seed=3,
                                 subset='holdout')))
    held = SafePoseDataset(synthetic_file, pipeline=[], split=cfg.split)
    train = SafePoseDataset(
        synthetic_file, pipeline=[],
        split=dict(split='train', holdout=0.25, seed=3))
    full = SafePoseDataset(synthetic_file, pipeline=[], split='train')
    names = [{d['frame_dir'] for d in ds.data_list}
             for ds in (held, train, full)]
    assert len(held) == 4  # round(0.25 * 4) per class, 4 classes
    assert names[0] | names[1] == names[2] and not names[0] & names[1]
    # the bank of module ① is built from the training part only
    bank = SkeletonBank.from_pickle(synthetic_file, 48,
                                    split=dict(split='train', holdout=0.25,
                                               seed=3))
    assert len(bank) == len(train) == 12
    assert describe_split(cfg.split) == 'train-holdout(0.25, seed 3)'
    assert describe_split(dict(split='train')) == \
        'train-minus-holdout(0.15, seed 0)'
