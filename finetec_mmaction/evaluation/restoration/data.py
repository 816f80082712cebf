"""The benchmark's clips: one split corrupted with the deterministic
test-time masks of :class:`TemporalCorruption`, sampled like a 1-clip test
and formatted with the clean sequence of the same frames."""
import copy
from typing import Dict, Iterator, List, Optional

import numpy as np
import torch
from mmengine.dataset import Compose, pseudo_collate
from mmengine.registry import DefaultScope
from torch.utils.data import DataLoader

from mmaction.registry import DATASETS
from ...datasets.subset import subset_evenly
from .spec import EvalSpec


def corruption_pipeline(spec: EvalSpec, ratio: float,
                        strategy: str) -> List[Dict]:
    """The test pipeline with deterministic corruption and clean targets."""
    pipeline = [copy.deepcopy(spec.normalize)] if spec.normalize else []
    pipeline.append(
        dict(type='TemporalCorruption', ratio=float(ratio), strategy=strategy,
             test_mode=True, keep_clean=True, **spec.corruption))
    if spec.feat:
        pipeline.append(copy.deepcopy(spec.feat))
    pipeline += [
        dict(type='UniformSampleFrames', clip_len=spec.clip_len, num_clips=1,
             test_mode=True),
        dict(type='PoseDecode'),
        dict(type='FormatGCNInput', num_person=spec.num_person,
             mode=spec.person_mode),
        dict(type='FormatCorruptionTargets', num_person=spec.num_person,
             mode=spec.person_mode),
        dict(type='PackActionInputs',
             algorithm_keys=('frame_valid', 'keypoint_clean'),
             meta_keys=('frame_dir', 'corrupt_ratio', 'corrupt_strategy'))
    ]
    return pipeline


def set_corruption(dataset, spec: EvalSpec, ratio: float,
                   strategy: str) -> None:
    """Swap the corruption of a built dataset (the data is loaded once)."""
    with DefaultScope.overwrite_default_scope('mmaction'):
        dataset.pipeline = Compose(corruption_pipeline(spec, ratio, strategy))


def build_eval_dataset(spec: EvalSpec,
                       ratio: float = 0.0,
                       strategy: str = 'random',
                       max_samples: Optional[int] = None):
    """A :class:`SafePoseDataset` of the split with the evaluation pipeline.

    ``max_samples`` keeps that many samples spread evenly over the split (a
    split is often ordered by class).
    """
    with DefaultScope.overwrite_default_scope('mmaction'):
        dataset = DATASETS.build(
            dict(type='SafePoseDataset', ann_file=spec.ann_file,
                 split=spec.split, num_classes=spec.num_classes,
                 pipeline=corruption_pipeline(spec, ratio, strategy),
                 test_mode=True))
    return subset_evenly(dataset, max_samples)


def _to_batch(packed: Dict) -> Dict:
    """``pseudo_collate`` output of the evaluation pipeline → arrays of one
    clip per sample: ``inputs`` ``(N, M, T, V, C)`` tensor, ``valid``
    ``(N, T)``, ``clean`` ``(N, M, T, V, C)``, ``labels`` ``(N,)``."""
    samples = packed['data_samples']
    inputs = torch.stack([torch.as_tensor(x) for x in packed['inputs']])
    valid = np.stack([np.asarray(s.frame_valid) for s in samples])
    clean = np.stack([np.asarray(s.keypoint_clean) for s in samples])
    labels = np.array([
        int(s.gt_label.reshape(-1)[0]) if 'gt_label' in s else -1
        for s in samples
    ])
    return dict(
        inputs=inputs[:, 0].float(),
        valid=valid[:, 0].astype(bool),
        clean=clean[:, 0].astype(np.float32),
        labels=labels,
        frame_dirs=[s.metainfo.get('frame_dir') for s in samples])


def iter_batches(dataset, batch_size: int = 64,
                 num_workers: int = 0) -> Iterator[Dict]:
    """Batches of the dataset in order (see :func:`_to_batch`)."""
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=False,
                        num_workers=num_workers, collate_fn=pseudo_collate)
    for packed in loader:
        yield _to_batch(packed)


def load_sample(dataset, index: int) -> Dict:
    """One sample as a batch of one (see :func:`_to_batch`)."""
    return _to_batch(pseudo_collate([dataset[index]]))
