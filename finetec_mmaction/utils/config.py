"""Reading configs: plain copies of config values and the transforms,
datasets and evaluators a config's loaders hold; setting the missing frames
of every ``TemporalCorruption`` in them."""
from typing import Dict, Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np

from ..core.masking import STRATEGIES, check_strategy, resolve_ratio


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


#: The loaders whose datasets :func:`set_missing_frames` walks.
LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')
_CORRUPTION = 'TemporalCorruption'


def _corruptions(node) -> Iterator[Dict]:
    """Every ``TemporalCorruption`` dict nested in ``node`` (pipelines,
    wrapped datasets such as ``RepeatDataset``, ``ConcatDataset`` lists,
    transforms that hold transforms)."""
    if isinstance(node, dict):
        if type_name(node) == _CORRUPTION:
            yield node
        for value in node.values():
            yield from _corruptions(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            yield from _corruptions(value)


def set_missing_frames(cfg,
                       ratio=None,
                       strategy: Optional[str] = None,
                       loaders: Sequence[str] = LOADERS) -> List[str]:
    """Set ``ratio`` and / or ``strategy`` of every ``TemporalCorruption``
    in the datasets of ``cfg``'s loaders, in place (what ``--missing-ratio``
    / ``--missing-strategy`` of ``tools/train.py`` and ``tools/test.py`` do,
    so that no pipeline index is needed).

    Args:
        cfg (Config): The config.
        ratio (float | str | tuple, optional): A ratio, a level name
            (``'minor'``, ``'moderate'``, ``'severe'``, ``'clean'``) or a
            ``(low, high)`` range drawn per sample; ``None`` keeps each.
        strategy (str, optional): A masking strategy or ``'mixed'``;
            ``None`` keeps each.
        loaders (Sequence[str]): The loader keys to walk; absent or ``None``
            loaders (e.g. ``--no-validate``) are skipped.

    Returns:
        list[str]: The loaders in which a transform was set.

    Raises:
        ValueError: An invalid ratio or strategy, or no ``TemporalCorruption``
            in any of the loaders (a clean config: nothing would change).
    """
    if ratio is None and strategy is None:
        return []
    if ratio is not None:
        if isinstance(ratio, list):
            ratio = tuple(ratio)
        resolve_ratio(ratio, np.random.default_rng(0))  # validate early
    if strategy is not None:
        check_strategy(strategy)
    changed = []
    for key in loaders:
        loader = cfg.get(key)
        found = list(_corruptions(loader.get('dataset'))) if loader else []
        for transform in found:
            if ratio is not None:
                transform['ratio'] = ratio
            if strategy is not None:
                transform['strategy'] = strategy
        if found:
            changed.append(key)
    if not changed:
        walked = ', '.join(k for k in loaders if cfg.get(k)) or 'none'
        raise ValueError(
            f'{getattr(cfg, "filename", None) or "the config"}: no '
            f'{_CORRUPTION} in the datasets of its loaders ({walked}), so '
            'there is no missing-frame ratio or strategy to set (a clean '
            'config). Add TemporalCorruption after the normalisation of its '
            'pipelines, or use a config that has one.')
    return changed


def parse_missing_ratio(text: str):
    """A ``--missing-ratio`` value: ``'0.75'`` -> 0.75, a level name as is,
    ``'0.2,0.8'`` -> the range ``(0.2, 0.8)`` drawn per sample."""
    parts = [p.strip() for p in str(text).split(',')]
    try:
        values = [float(p) for p in parts]
    except ValueError:
        if len(parts) == 1:
            resolve_ratio(parts[0])  # a level name, or a clear error
            return parts[0]
        raise ValueError(f'--missing-ratio {text!r}: expected a ratio in '
                         '[0, 1], a level name (minor, moderate, severe, '
                         'clean) or a range LOW,HIGH.') from None
    if len(values) > 2:
        raise ValueError(f'--missing-ratio {text!r}: a range is LOW,HIGH.')
    ratio = values[0] if len(values) == 1 else tuple(values)
    resolve_ratio(ratio, np.random.default_rng(0))
    return ratio


def add_missing_frame_args(parser) -> None:
    """``--missing-ratio`` and ``--missing-strategy`` of ``tools/train.py``
    and ``tools/test.py`` (applied by :func:`set_missing_frames`)."""
    import argparse

    def ratio(text):
        try:
            return parse_missing_ratio(text)
        except ValueError as err:
            raise argparse.ArgumentTypeError(str(err)) from None

    parser.add_argument(
        '--missing-ratio',
        type=ratio,
        help='fraction of the frames of every sequence to drop, in every '
        'TemporalCorruption of the loaders: a ratio (0.75), a level (minor, '
        'moderate, severe, clean) or a range LOW,HIGH drawn per sample')
    parser.add_argument(
        '--missing-strategy',
        choices=STRATEGIES + ('mixed', ),
        help='which frames go missing, in every TemporalCorruption of the '
        "loaders ('mixed': a strategy drawn per sample)")
