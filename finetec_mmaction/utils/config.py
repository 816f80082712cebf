"""Reading configs: plain copies of config values and the transforms,
datasets and evaluators a config's loaders hold."""
from typing import Dict, List, Optional, Sequence, Tuple, Union


def to_plain(value):
    """ConfigDict / tuple values to plain Python (for copies and JSON)."""
    if hasattr(value, 'to_dict'):
        value = value.to_dict()
    if isinstance(value, dict):
        return {k: to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    return value


def type_name(transform) -> str:
    """The registered name of a transform config (``'mmaction.X'`` -> ``X``)
    or the class name of a built transform."""
    return str(transform.get('type', '')).split('.')[-1] \
        if isinstance(transform, dict) else type(transform).__name__


def leaf_dataset(dataset_cfg):
    """The dataset that holds the pipeline (unwrap ``RepeatDataset``...)."""
    while 'pipeline' not in dataset_cfg and 'dataset' in dataset_cfg:
        dataset_cfg = dataset_cfg['dataset']
    return dataset_cfg


def find_transform(pipeline: Sequence,
                   type_names: Union[str, Sequence[str]]) -> Optional[Dict]:
    """A plain copy of the first transform of ``pipeline`` whose type is one
    of ``type_names``, else ``None``."""
    type_names = (type_names, ) if isinstance(type_names, str) else type_names
    for transform in pipeline:
        if isinstance(transform, dict) and type_name(transform) in type_names:
            return to_plain(transform)
    return None


def loader_pipeline(cfg) -> Tuple[Dict, List]:
    """The dataset config and pipeline of ``test_dataloader`` (else
    ``val_dataloader``), wrappers unwrapped."""
    for loader in ('test_dataloader', 'val_dataloader'):
        if cfg.get(loader) and cfg[loader].get('dataset'):
            dataset = leaf_dataset(cfg[loader]['dataset'])
            if 'pipeline' in dataset:
                return dataset, list(dataset['pipeline'])
    raise ValueError(f'{cfg.filename}: no test_dataloader (or '
                     'val_dataloader) dataset with a pipeline.')


def find_evaluator(cfg, type_names: Union[str, Sequence[str]]
                   ) -> Optional[Dict]:
    """A plain copy of the first ``test_evaluator`` (else ``val_evaluator``)
    metric whose type is one of ``type_names``, else ``None``."""
    type_names = (type_names, ) if isinstance(type_names, str) else type_names
    for key in ('test_evaluator', 'val_evaluator'):
        evaluators = cfg.get(key)
        if evaluators is None:
            continue
        if isinstance(evaluators, dict):
            evaluators = [evaluators]
        for ev in evaluators:
            if type_name(ev) in type_names:
                return to_plain(ev)
    return None
