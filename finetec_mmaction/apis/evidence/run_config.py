"""The training config of one run of the protocol, built from the spec and
the model's own config (see :func:`build_run_config`)."""
import copy
import hashlib
import json
from typing import Dict, List, Optional, Sequence

from mmengine.config import Config

from ...evaluation.corruption_sweep import corrupted_pipeline
from ...utils.checkpoint_check import completion_from_checkpoint
from ...utils.config import leaf_dataset, to_plain, type_name
from .spec import DatasetEntry, ModelEntry, ProtocolSpec

#: Dataloaders of a training config and the part of the data each one gets.
LOADERS = dict(train_dataloader='train', val_dataloader='val',
               test_dataloader='test')


def _pipelines(cfg) -> Dict[str, Dict]:
    """The leaf dataset config of each dataloader the config has."""
    return {loader: leaf_dataset(cfg[loader]['dataset'])
            for loader in LOADERS if cfg.get(loader)}


def without_corruption(pipeline: Sequence[Dict]) -> List[Dict]:
    """The pipeline minus its ``TemporalCorruption`` (clean training)."""
    return [copy.deepcopy(to_plain(t)) for t in pipeline
            if type_name(t) != 'TemporalCorruption']


def apply_pipeline_options(pipelines: Dict[str, Dict], options: Dict,
                           name: str) -> None:
    """Update every transform of each type in ``options`` (in place)."""
    for transform_type, kwargs in options.items():
        found = False
        for dataset in pipelines.values():
            for transform in dataset['pipeline']:
                if type_name(transform) == transform_type:
                    transform.update(to_plain(kwargs))
                    found = True
        if not found:
            raise ValueError(f'model {name!r}: pipeline_options names '
                             f'{transform_type!r}, which no pipeline of its '
                             'config has.')


def apply_budget(cfg, budget: Dict) -> None:
    """Train ``budget['max_epochs']`` epochs; an epoch-based cosine schedule
    is stretched to it, and other schedules are cut at it."""
    budget = dict(budget)
    epochs = int(budget.pop('max_epochs'))
    if budget:
        raise ValueError(f'budget takes max_epochs (other settings go to '
                         f'cfg_options), got {sorted(budget)}.')
    cfg.train_cfg.max_epochs = epochs
    if cfg.train_cfg.get('val_begin', 1) > epochs:
        cfg.train_cfg.val_begin = 1
    schedulers = cfg.get('param_scheduler') or []
    if isinstance(schedulers, dict):
        schedulers = [schedulers]
    for scheduler in schedulers:
        if not scheduler.get('by_epoch', True):
            continue
        begin = scheduler.get('begin', 0)
        if 'T_max' in scheduler and scheduler.get('end') is None:
            scheduler['T_max'] = epochs - begin
        if scheduler.get('end') is not None and scheduler['end'] > epochs:
            scheduler['end'] = epochs


def completion_cfg(cfg, dataset: DatasetEntry) -> Optional[Dict]:
    """The frozen module ① of a run config with its bank built from the
    training part (``None`` when the model has none or uses a trained
    stage-1 checkpoint)."""
    model = cfg.model
    if not model.get('completion') or model.get('completion_checkpoint'):
        return None
    completion = to_plain(model.completion)
    bank = dict(completion.get('bank') or {})
    bank.pop('cache', None)  # a cache file may hold another split's bank
    bank.pop('file', None)
    bank.update(dataset.bank)
    bank.update(ann_file=dataset.ann_file, split=dataset.split('train'))
    completion['bank'] = bank
    return completion


def use_shared_completion(cfg, completion_file: str) -> None:
    """Load the frozen ① of a run from ``completion_file`` (the same file
    for every model and seed of a dataset whose ① config is the same, see
    :func:`completion_cfg`) instead of building its bank."""
    completion_from_checkpoint(cfg.model, completion_file)


def completion_key(completion: Dict) -> str:
    """Short hash naming the shared ① checkpoint of a completion config."""
    text = json.dumps(completion, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def build_run_config(spec: ProtocolSpec, dataset: DatasetEntry,
                     model: ModelEntry, seed: int, run_dir: str,
                     cfg_options: Optional[Dict] = None) -> Config:
    """The training config of one run.

    Data: the spec's ``ann_file``; training on the training split minus the
    carve, validation on the carve (never on test), test on the test split.
    Training corruption: the spec's (or the model's, or none); validation
    corruption: the spec's, deterministic (``test_mode=True``, the sweep's
    mask seed). Budget, seed, work dir and a checkpoint hook keeping the
    last checkpoint only.
    """
    cfg = Config.fromfile(model.config)
    for options in (spec.common_options, model.cfg_options,
                    cfg_options or {}):
        if options:
            cfg.merge_from_dict(copy.deepcopy(options))
    datasets = _pipelines(cfg)
    missing = [loader for loader in LOADERS if loader not in datasets]
    if missing:
        raise ValueError(f'{model.config}: the protocol needs {missing}.')
    for loader, leaf in datasets.items():
        leaf['ann_file'] = dataset.ann_file
        leaf['split'] = dataset.split(LOADERS[loader])
        if loader != 'train_dataloader':
            leaf['test_mode'] = True
    train = datasets['train_dataloader']
    corruption = model.train_corruption
    if corruption is None:
        train['pipeline'] = without_corruption(train['pipeline'])
    else:
        options = spec.train_corruption if corruption == 'default' \
            else corruption
        train['pipeline'] = corrupted_pipeline(
            train['pipeline'], **dict(to_plain(options), test_mode=False))[0]
    val = datasets['val_dataloader']
    val['pipeline'] = corrupted_pipeline(
        val['pipeline'], **dict(to_plain(spec.val_corruption), test_mode=True,
                                seed=spec.mask_seed))[0]
    apply_pipeline_options(datasets, model.pipeline_options, model.name)
    apply_budget(cfg, dataset.budget)
    cfg.default_hooks.checkpoint = dict(
        type='CheckpointHook', interval=1, max_keep_ckpts=1)
    cfg.randomness = dict(seed=int(seed), deterministic=False)
    cfg.work_dir = run_dir
    cfg.launcher = 'none'
    return cfg
