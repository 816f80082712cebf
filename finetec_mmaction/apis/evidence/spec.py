"""The protocol spec: an mmengine config file naming the datasets, their
models and everything the runs share.

A spec names, per dataset, the models as ``name -> (config, cfg-options)``
and everything the runs share: seeds, the validation carve, the training
corruption, the budget, the sweep grid. See ``docs/evidence_protocol.md``
and ``configs/evidence/`` for complete specs. A model entry is a
``(config, cfg_options)`` pair or a dict with

* ``config`` (str) and ``cfg_options`` (dict of dotted keys, as
  ``--cfg-options``);
* ``train_corruption``: ``'default'`` (the spec's), ``None`` (clean
  training: any ``TemporalCorruption`` leaves the training pipeline) or a
  dict of ``TemporalCorruption`` arguments;
* ``pipeline_options``: ``{transform type: arguments}`` applied to that
  transform in the train, val and test pipelines (e.g.
  ``{'InterpolateMissingFrames': dict(method='akima')}``).
"""
import copy
import os.path as osp
import re
import unicodedata
from dataclasses import dataclass, field, replace
from typing import Dict, List, Optional, Sequence, Union

from mmengine.config import Config

from ...core.masking import check_strategy, parse_ratio
from ...datasets.splits import holdout_split
from ...utils.config import to_plain

#: Defaults of a spec (every key may be set in the spec file).
DEFAULTS = dict(
    seeds=[0, 1, 2],
    reference='FineTec',
    train_corruption=dict(ratio=(0.0, 0.9), strategy='mixed'),
    val_corruption=dict(ratio=(0.0, 0.9), strategy='mixed'),
    budget=dict(max_epochs=6),
    holdout=dict(holdout=0.15, seed=0),
    bank=dict(max_size=2048),
    common_options=dict(),
    sweep=dict(
        ratios=[0.0, 0.25, 0.5, 0.75, 0.9],
        strategies=['random', 'in-between', 'burst', 'motion'],
        mask_seed=0,
        splits=['val', 'test'],
        batch_size=16),
    severe=dict(ratio=0.75, strategies=['random', 'in-between', 'motion']),
    bootstrap=dict(num_samples=10000, seed=0),
)
#: Sweep splits: the carved validation part and the dataset's test split.
EVAL_SPLITS = ('val', 'test')


@dataclass
class ModelEntry:
    """One model of a dataset in the spec."""
    name: str
    config: str
    cfg_options: Dict = field(default_factory=dict)
    train_corruption: Union[str, None, Dict] = 'default'
    pipeline_options: Dict = field(default_factory=dict)

    @property
    def slug(self) -> str:
        """The name as a folder name."""
        return slugify(self.name)


@dataclass
class DatasetEntry:
    """One dataset of the spec, with its models."""
    name: str
    ann_file: str
    models: List[ModelEntry]
    train_split: str = 'train'
    test_split: str = 'test'
    holdout: Dict = field(default_factory=dict)
    budget: Dict = field(default_factory=dict)
    bank: Dict = field(default_factory=dict)

    def split(self, part: str):
        """The ``split`` value of ``'train'`` (training minus the carve),
        ``'val'`` (the carve) or ``'test'``."""
        if part == 'test':
            return self.test_split
        return holdout_split(self.train_split, self.holdout['holdout'],
                             self.holdout.get('seed', 0),
                             'holdout' if part == 'val' else 'train')


@dataclass
class ProtocolSpec:
    """A loaded spec (see the module docstring)."""
    filename: str
    datasets: List[DatasetEntry]
    seeds: List[int]
    reference: str
    train_corruption: Dict
    val_corruption: Dict
    common_options: Dict
    ratios: List[float]
    strategies: List[str]
    mask_seed: int
    eval_splits: List[str]
    batch_size: int
    severe_ratio: float
    severe_strategies: List[str]
    bootstrap_samples: int
    bootstrap_seed: int

    @property
    def cells(self) -> List[tuple]:
        """``(strategy, ratio)`` of the sweep: ``(None, 0.0)`` once (clean
        clips are the same for every strategy), then strategy x ratio."""
        out = [(None, 0.0)] if 0.0 in self.ratios else []
        return out + [(s, r) for s in self.strategies for r in self.ratios
                      if r > 0]


def slugify(name: str) -> str:
    """A model / dataset name as a folder name (``ST-GCN++ (Akima)`` →
    ``ST-GCN++_Akima``, ``FineTec w/o ①`` → ``FineTec_w_o_1``)."""
    slug = unicodedata.normalize('NFKC', name)
    slug = re.sub(r'[^A-Za-z0-9+\-.]+', '_', slug).strip('_.')
    if not slug:
        raise ValueError(f'Name {name!r} gives an empty folder name.')
    return slug


def cell_name(strategy: Optional[str], ratio: float) -> str:
    """File stem of a sweep cell (``clean``, ``random-0.75``)."""
    return 'clean' if strategy is None else f'{strategy}-{ratio:g}'


def _merged(defaults: Dict, value) -> Dict:
    value = to_plain(value) if value is not None else {}
    out = copy.deepcopy(defaults)
    out.update(value)
    return out


def _model_entry(name: str, value, where: str) -> ModelEntry:
    value = to_plain(value)
    if isinstance(value, (list, tuple)):
        if len(value) != 2:
            raise ValueError(f'{where}: model {name!r} must be (config, '
                             f'cfg_options), got {len(value)} items.')
        value = dict(config=value[0], cfg_options=value[1])
    if not isinstance(value, dict) or 'config' not in value:
        raise ValueError(f'{where}: model {name!r} must be (config, '
                         'cfg_options) or a dict with "config".')
    unknown = set(value) - {'config', 'cfg_options', 'train_corruption',
                            'pipeline_options'}
    if unknown:
        raise ValueError(f'{where}: model {name!r} has unknown keys '
                         f'{sorted(unknown)}.')
    entry = ModelEntry(name=name, config=value['config'],
                       cfg_options=dict(value.get('cfg_options') or {}),
                       train_corruption=value.get('train_corruption',
                                                  'default'),
                       pipeline_options=dict(
                           value.get('pipeline_options') or {}))
    if not osp.isfile(entry.config):
        raise FileNotFoundError(f'{where}: the config of model {name!r} does '
                                f'not exist: {entry.config}')
    corruption = entry.train_corruption
    if not (corruption in ('default', None) or isinstance(corruption, dict)):
        raise ValueError(f'{where}: model {name!r}: train_corruption must be '
                         f'"default", None or a dict, got {corruption!r}.')
    return entry


def load_spec(path: str,
              seeds: Optional[Sequence[int]] = None,
              only: Optional[Sequence[str]] = None,
              check_data: bool = True) -> ProtocolSpec:
    """Read a spec file.

    Args:
        path (str): The spec (a Python / mmengine config file).
        seeds (Sequence[int], optional): Replace the spec's seeds.
        only (Sequence[str], optional): Keep the datasets and models with
            these names (a dataset name keeps all its models; ``DS/MODEL``
            one model of one dataset). The reference model is always kept
            where it exists, as every comparison needs it.
        check_data (bool): Check that every ``ann_file`` exists (model
            configs are always checked).

    Raises:
        ValueError / FileNotFoundError: A malformed spec, naming the file
            and the entry.
    """
    raw = Config.fromfile(path)
    get = {k: to_plain(raw.get(k, v)) for k, v in DEFAULTS.items()}
    sweep = _merged(DEFAULTS['sweep'], raw.get('sweep'))
    severe = _merged(DEFAULTS['severe'], raw.get('severe'))
    boot = _merged(DEFAULTS['bootstrap'], raw.get('bootstrap'))
    if not raw.get('datasets'):
        raise ValueError(f'{path}: the spec lists no datasets '
                         '(datasets=dict(NAME=dict(ann_file=..., '
                         'models=dict(...)))).')
    datasets = []
    for name, value in to_plain(raw.datasets).items():
        where = f'{path}: dataset {name!r}'
        slugify(name)
        if not value.get('ann_file') or not value.get('models'):
            raise ValueError(f'{where} needs ann_file and models.')
        if check_data and not osp.isfile(value['ann_file']):
            raise FileNotFoundError(f'{where}: ann_file {value["ann_file"]} '
                                    'does not exist.')
        models = [_model_entry(n, v, where)
                  for n, v in value['models'].items()]
        if get['reference'] is not None and get['reference'] not in [
                m.name for m in models]:
            raise ValueError(
                f'{where} has no model named {get["reference"]!r} (the '
                'reference every model is compared with); name one so or '
                'set reference=None.')
        slugs = [m.slug for m in models]
        if len(set(slugs)) != len(slugs):
            raise ValueError(f'{where}: model names {[m.name for m in models]}'
                             ' give the same folder name twice.')
        datasets.append(DatasetEntry(
            name=name, ann_file=value['ann_file'], models=models,
            train_split=value.get('train_split', 'train'),
            test_split=value.get('test_split', 'test'),
            holdout=_merged(get['holdout'], value.get('holdout')),
            budget=_merged(get['budget'], value.get('budget')),
            bank=_merged(get['bank'], value.get('bank'))))
        datasets[-1].split('val')  # checks the carve
    if only:
        datasets = _select(datasets, list(only), get['reference'], path)
    ratios = sorted({parse_ratio(r) for r in sweep['ratios']})
    strategies = list(dict.fromkeys(sweep['strategies']))
    for strategy in strategies + list(severe['strategies']):
        check_strategy(strategy)
    unknown = set(sweep['splits']) - set(EVAL_SPLITS)
    if unknown or not sweep['splits']:
        raise ValueError(f'{path}: sweep splits must be a non-empty subset '
                         f'of {EVAL_SPLITS}, got {sweep["splits"]}.')
    seeds = [int(s) for s in (seeds if seeds is not None else get['seeds'])]
    if not seeds or len(set(seeds)) != len(seeds):
        raise ValueError(f'{path}: seeds must be distinct, got {seeds}.')
    return ProtocolSpec(
        filename=path, datasets=datasets, seeds=seeds,
        reference=get['reference'],
        train_corruption=get['train_corruption'],
        val_corruption=get['val_corruption'],
        common_options=get['common_options'], ratios=ratios,
        strategies=strategies, mask_seed=int(sweep['mask_seed']),
        eval_splits=[s for s in EVAL_SPLITS if s in sweep['splits']],
        batch_size=int(sweep['batch_size']),
        severe_ratio=parse_ratio(severe['ratio']),
        severe_strategies=list(severe['strategies']),
        bootstrap_samples=int(boot['num_samples']),
        bootstrap_seed=int(boot['seed']))


def _select(datasets: List[DatasetEntry], only: List[str], reference: str,
            path: str) -> List[DatasetEntry]:
    names = {d.name for d in datasets} | {m.name for d in datasets
                                          for m in d.models} | {
        f'{d.name}/{m.name}' for d in datasets for m in d.models}
    unknown = [n for n in only if n not in names]
    if unknown:
        raise ValueError(f'{path}: --only {unknown}: no such dataset or '
                         f'model; known: {sorted(names)}.')
    kept = []
    for dataset in datasets:
        if dataset.name in only:
            kept.append(dataset)
            continue
        models = [m for m in dataset.models
                  if m.name in only or f'{dataset.name}/{m.name}' in only]
        if models:
            models += [m for m in dataset.models if m.name == reference
                       and m not in models]
            kept.append(replace(dataset, models=[
                m for m in dataset.models if m in models]))
    return kept
