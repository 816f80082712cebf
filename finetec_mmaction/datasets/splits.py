"""A validation part carved from a training split: stratified by class and
reproducible from a seed.

Penn Action and UTKinect ship a train and a test split only; every choice
(hyper-parameters, test-time policies, checkpoints) has to be made on data
the test tables never see. A *holdout split* is written where a split name
goes, in a dataset config or a skeleton bank config::

    # the training part: the training split minus the carved 15 %
    split=dict(split='train', holdout=0.15, seed=0, subset='train')
    # the carved 15 % (validation)
    split=dict(split='train', holdout=0.15, seed=0, subset='holdout')

Both subsets of one ``(split, holdout, seed)`` are disjoint and together
are the split. Within each class the samples are ranked by a hash of
``(seed, frame_dir)`` and the first ``round(holdout * n)`` are held out, so
the carve depends neither on the order of the file nor on which other
samples it holds; a class with at least two samples keeps at least one on
each side, a class with one sample stays in the training part.

``group=REGEX`` carves whole groups instead (people, cameras, recording
sessions): the first match of the pattern in ``frame_dir`` (its first
capture group if it has one) names a sample's group, and
``round(holdout * groups)`` groups, ranked the same way, are held out::

    # UTKinect: two of the training split's five subjects held out
    split=dict(split='train', holdout=0.4, group=r'^s\\d+', subset='holdout')

:func:`~finetec_mmaction.datasets.validation.select_split` hands such a dict
to :func:`select_holdout_split`, so ``SafePoseDataset`` and the skeleton bank
of module ① (``bank=dict(ann_file=..., split=...)``) accept it alike.
"""
import hashlib
import numbers
import re
from collections import Counter
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np

#: The two parts of a holdout split.
HOLDOUT_SUBSETS = ('train', 'holdout')
_KEYS = ('split', 'holdout', 'seed', 'subset', 'group')


def holdout_split(split: str = 'train',
                  holdout: float = 0.15,
                  seed: int = 0,
                  subset: str = 'train',
                  group: Optional[str] = None) -> Dict:
    """The ``split`` value of one part of a carved split (checked)."""
    spec = dict(split=split, holdout=holdout, seed=seed, subset=subset)
    if group is not None:
        spec['group'] = group
    check_holdout_split(spec)
    return spec


def is_holdout_split(split) -> bool:
    """Whether a ``split`` value is a holdout split (a dict)."""
    return isinstance(split, dict)


def check_holdout_split(spec: Mapping, ann_file: str = '') -> Dict:
    """Validate a holdout split; return it as a plain dict with defaults.

    Raises:
        ValueError: Unknown keys, a missing ``split``, a ``holdout`` outside
            ``(0, 1)``, a non-int ``seed`` or an unknown ``subset``; the
            message names ``ann_file``.
    """
    where = f'{ann_file}: ' if ann_file else ''
    unknown = sorted(set(spec) - set(_KEYS))
    if unknown or 'split' not in spec:
        raise ValueError(
            f'{where}a holdout split is dict(split=NAME, holdout=FRACTION, '
            f'seed=INT, subset={"|".join(HOLDOUT_SUBSETS)}[, group=REGEX]); '
            f'got keys '
            f'{sorted(spec)}.')
    spec = dict(dict(holdout=0.15, seed=0, subset='train'), **spec)
    if not isinstance(spec['split'], str):
        raise ValueError(f'{where}holdout split: "split" must name a split '
                         f'of the file, got {spec["split"]!r}.')
    fraction = spec['holdout']
    if isinstance(fraction, bool) or not isinstance(
            fraction, numbers.Real) or not 0 < fraction < 1:
        raise ValueError(f'{where}holdout split: "holdout" is the fraction '
                         f'held out, in (0, 1); got {fraction!r}.')
    if isinstance(spec['seed'], bool) or not isinstance(
            spec['seed'], numbers.Integral):
        raise ValueError(f'{where}holdout split: "seed" must be an int, got '
                         f'{spec["seed"]!r}.')
    if spec['subset'] not in HOLDOUT_SUBSETS:
        raise ValueError(f'{where}holdout split: "subset" must be one of '
                         f'{HOLDOUT_SUBSETS}, got {spec["subset"]!r}.')
    group = spec.get('group')
    if group is not None:
        try:
            re.compile(group)
        except (TypeError, re.error) as err:
            raise ValueError(f'{where}holdout split: "group" must be a '
                             f'regular expression matched in frame_dir, got '
                             f'{group!r} ({err}).') from None
    spec['holdout'] = float(fraction)
    spec['seed'] = int(spec['seed'])
    return spec


def sample_groups(frame_dirs: Sequence[str], pattern: str,
                  ann_file: str = '') -> List[str]:
    """The group of each sample: the first match of ``pattern`` in its
    ``frame_dir`` (its first capture group if it has one).

    Raises:
        ValueError: A ``frame_dir`` the pattern does not match, named with
            ``ann_file``.
    """
    regex = re.compile(pattern)
    groups = []
    for frame_dir in frame_dirs:
        match = regex.search(frame_dir)
        if match is None:
            where = f'{ann_file}: ' if ann_file else ''
            raise ValueError(f'{where}sample {frame_dir!r}: the holdout '
                             f'group pattern {pattern!r} does not match its '
                             'frame_dir.')
        groups.append(match.group(1) if regex.groups else match.group(0))
    return groups


def carve_groups(groups: Sequence[str], holdout: float,
                 seed: int = 0) -> np.ndarray:
    """Which samples are held out when whole groups are: ``(N,)`` bool.

    The groups are carved as :func:`carve_holdout` carves the samples of
    one class: ``round(holdout * G)`` of the ``G`` groups, clipped to
    ``[1, G - 1]`` when ``G >= 2``, ranked by a hash of ``(seed, group)``.
    """
    names = sorted(set(groups))
    held = carve_holdout(names, [0] * len(names), holdout, seed)
    held = {name for name, h in zip(names, held) if h}
    return np.array([g in held for g in groups], dtype=bool)


def _rank_key(seed: int, frame_dir: str) -> bytes:
    # a real hash: each seed gives an unrelated order (a CRC would only
    # rotate one order)
    return hashlib.sha256(f'{seed}\0{frame_dir}'.encode()).digest()


def carve_holdout(frame_dirs: Sequence[str],
                  labels: Sequence[int],
                  holdout: float,
                  seed: int = 0) -> np.ndarray:
    """Which samples are held out, stratified by class.

    Args:
        frame_dirs (Sequence[str]): Sample ids (unique).
        labels (Sequence[int]): Class of each sample.
        holdout (float): Fraction held out per class, in ``(0, 1)``.
        seed (int): Seed of the carve.

    Returns:
        np.ndarray: ``(N,)`` bool, ``True`` for held-out samples. Per class
        of ``n`` samples, ``round(holdout * n)`` held out, clipped to
        ``[1, n - 1]`` when ``n >= 2`` (0 when ``n == 1``).
    """
    if len(frame_dirs) != len(labels):
        raise ValueError(f'{len(frame_dirs)} ids for {len(labels)} labels.')
    if len(set(frame_dirs)) != len(frame_dirs):
        raise ValueError('carve_holdout needs unique sample ids.')
    held = np.zeros(len(frame_dirs), dtype=bool)
    by_class: Dict = {}
    for i, label in enumerate(labels):
        by_class.setdefault(label, []).append(i)
    for members in by_class.values():
        n = len(members)
        k = int(np.floor(holdout * n + 0.5))
        k = min(max(k, 1), n - 1) if n >= 2 else 0
        ranked = sorted(members, key=lambda i: _rank_key(seed, frame_dirs[i]))
        held[ranked[:k]] = True
    return held


def _sample_id(anno) -> Optional[str]:
    if isinstance(anno, dict):
        ident = anno.get('frame_dir', anno.get('filename'))
        if isinstance(ident, str):
            return ident
    return None


def select_holdout_split(data, spec: Mapping,
                         ann_file: str) -> Tuple[List[Dict], List[int]]:
    """One part of a holdout split of a loaded annotation file.

    Args:
        data (dict | list[dict]): The loaded file.
        spec (Mapping): ``dict(split, holdout, seed, subset)``.
        ann_file (str): Named in messages.

    Returns:
        tuple[list[dict], list[int]]: The part's annotations and their
        indices in the file, as
        :func:`~finetec_mmaction.datasets.validation.select_split`.
        Samples that cannot be placed (no id, an unhashable or missing
        label) go to the training part, where validation reports them.

    Raises:
        ValueError: A bad ``spec`` or a split with repeated ids.
        KeyError: An unknown ``split``.
    """
    from .validation import select_split  # it hands holdout splits here
    spec = check_holdout_split(spec, ann_file)
    annos, indices = select_split(data, spec['split'], ann_file)
    placeable = [
        i for i, anno in enumerate(annos)
        if _sample_id(anno) is not None
        and isinstance(anno.get('label'), numbers.Integral)
    ]
    ids = [_sample_id(annos[i]) for i in placeable]
    repeated = sorted(x for x, n in Counter(ids).items() if n > 1)
    if repeated:
        raise ValueError(
            f'{ann_file}: split {spec["split"]!r} holds repeated ids (e.g. '
            f'{repeated[:3]}); a holdout split needs unique frame_dir.')
    held = np.zeros(len(annos), dtype=bool)
    if spec.get('group') is not None:
        held[placeable] = carve_groups(
            sample_groups(ids, spec['group'], ann_file), spec['holdout'],
            spec['seed'])
    else:
        held[placeable] = carve_holdout(
            ids, [int(annos[i]['label']) for i in placeable],
            spec['holdout'], spec['seed'])
    keep = held if spec['subset'] == 'holdout' else ~held
    return ([a for a, k in zip(annos, keep) if k],
            [i for i, k in zip(indices, keep) if k])


def describe_split(split) -> str:
    """A split value in words for logs and tables (``'train'``,
    ``'train-holdout(0.15, seed 0)'``...)."""
    if not is_holdout_split(split):
        return str(split)
    spec = check_holdout_split(split)
    part = 'holdout' if spec['subset'] == 'holdout' else 'minus-holdout'
    by = f', groups {spec["group"]}' if spec.get('group') is not None else ''
    return (f'{spec["split"]}-{part}({spec["holdout"]:g}, seed '
            f'{spec["seed"]}{by})')
