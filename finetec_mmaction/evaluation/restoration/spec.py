"""What the restoration benchmark reads from a config: the test clips
(layout, clip length, normalisation, persons, corruption seed) and the
joints and channels the errors are measured on."""
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Union

from ...utils.config import find_evaluator, find_transform, loader_pipeline

NORMALIZE_TYPES = ('PreNormalize2D', 'PreNormalize3D')
#: Options of the config's ``TemporalCorruption`` the benchmark keeps.
_CORRUPTION_KEYS = ('seed', 'num_bursts', 'motion_power', 'mixed_strategies')


@dataclass
class EvalSpec:
    """What the evaluation pipeline and the metric need from a config."""
    ann_file: str
    split: Optional[Union[str, Dict]]  # a name or a holdout split
    clip_len: int
    num_person: int = 1
    person_mode: str = 'zero'
    normalize: Optional[Dict] = None
    feat: Optional[Dict] = None
    corruption: Dict = field(default_factory=dict)
    joints: Optional[List[int]] = None
    coord_channels: Optional[int] = None
    num_classes: Optional[int] = None


def eval_spec_from_config(cfg,
                          split: Optional[str] = None,
                          ann_file: Optional[str] = None,
                          joints: Optional[Sequence[int]] = None) -> EvalSpec:
    """Read data, layout and metric settings from a (stage-1) config.

    Everything comes from the config's test pipeline (normalisation,
    ``GenSkeFeat``, ``clip_len``, persons, the corruption seed) and its
    ``CompletionMetric`` (``joints``, ``coord_channels``); ``split``,
    ``ann_file`` and ``joints`` override them.
    """
    dataset, pipeline = loader_pipeline(cfg)
    sample = find_transform(pipeline, 'UniformSampleFrames')
    if sample is None or 'clip_len' not in sample:
        raise ValueError(f'{cfg.filename}: the test pipeline has no '
                         'UniformSampleFrames(clip_len=...); the benchmark '
                         'evaluates fixed-length clips.')
    feat = find_transform(pipeline, 'GenSkeFeat')
    if feat is not None and list(feat.get('feats', ['j'])) != ['j']:
        raise ValueError(f'{cfg.filename}: restoration is evaluated on the '
                         f'joint stream, but GenSkeFeat has feats='
                         f'{feat.get("feats")}.')
    fmt = find_transform(pipeline, 'FormatGCNInput') or {}
    corrupt = find_transform(pipeline, 'TemporalCorruption') or {}
    metric = find_evaluator(cfg, 'CompletionMetric') or {}
    completion = cfg.get('model', {}).get('completion') or {}
    coord_channels = metric.get('coord_channels',
                                completion.get('coord_channels'))
    if joints is None:
        joints = metric.get('joints')
    return EvalSpec(
        ann_file=ann_file or dataset['ann_file'],
        split=split if split is not None else dataset.get('split'),
        clip_len=int(sample['clip_len']),
        num_person=int(fmt.get('num_person', 2)),
        person_mode=fmt.get('mode', 'zero'),
        normalize=find_transform(pipeline, NORMALIZE_TYPES),
        feat=feat,
        corruption={k: corrupt[k] for k in _CORRUPTION_KEYS if k in corrupt},
        joints=None if joints is None else [int(j) for j in joints],
        coord_channels=None if coord_channels is None else int(coord_channels),
        num_classes=dataset.get('num_classes', cfg.get('num_classes')))


def check_classifier_config(cls_cfg, spec: EvalSpec) -> None:
    """Refuse a classifier whose test input differs from the evaluated clips
    (clip length, features, normalisation, persons)."""
    name = cls_cfg.filename
    if cls_cfg.model.get('completion'):
        raise ValueError(
            f'{name}: the classifier has its own completion module; pass a '
            'plain (e.g. stock ST-GCN++) recognizer config: the benchmark '
            'puts each restoration in front of it.')
    _, pipeline = loader_pipeline(cls_cfg)
    sample = find_transform(pipeline, 'UniformSampleFrames') or {}
    if sample.get('clip_len') != spec.clip_len:
        raise ValueError(
            f'clip_len mismatch: the classifier ({name}) samples clips of '
            f'{sample.get("clip_len")} frames, the completion config '
            f'{spec.clip_len}. Restoration runs on the sampled clip, so both '
            'must match: use a classifier trained with the same clip_len (or '
            'a completion model trained for the classifier\'s).')
    feat = find_transform(pipeline, 'GenSkeFeat')
    if (feat is None) != (spec.feat is None) or (
            feat is not None and (list(feat.get('feats', ['j'])) != ['j'] or
                                  feat.get('dataset') !=
                                  spec.feat.get('dataset'))):
        raise ValueError(
            f'{name}: the classifier must read the joint stream of the same '
            f'layout (GenSkeFeat {spec.feat}), got {feat}.')
    norm = find_transform(pipeline, NORMALIZE_TYPES)
    if (norm or {}).get('type') != (spec.normalize or {}).get('type'):
        raise ValueError(
            f'{name}: the classifier normalises with {norm}, the evaluated '
            f'clips with {spec.normalize}.')
    fmt = find_transform(pipeline, 'FormatGCNInput') or {}
    if int(fmt.get('num_person', 2)) != spec.num_person:
        raise ValueError(
            f'{name}: the classifier formats {fmt.get("num_person", 2)} '
            f'persons, the evaluated clips {spec.num_person}.')
