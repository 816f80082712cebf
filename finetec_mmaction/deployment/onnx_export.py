"""ONNX export of skeleton recognizers, and its check against PyTorch.

Exports ``RecognizerFineTec`` (full FineTec, or a stock ST-GCN++ with only
the completion module in front) and MMAction2's ``RecognizerGCN`` as one
graph from the model input ``(N, num_clips, M, T, V, C)`` to the class
scores ``(N, num_classes)`` that ``model.predict`` puts in ``pred_score``
(clips averaged as the head's ``average_clips`` says). The whole model is
exported: module ①'s fills and retrieval, ②'s seeded test-time variants
and ③ run inside the graph (see :mod:`finetec_mmaction.core.fill` and
:class:`~finetec_mmaction.core.ReplayedDraws` for the parts restructured
for it). Needs the ``deploy`` extra (``pip install -e '.[deploy]'``:
onnx, onnxruntime, onnxscript).
"""
import time
from typing import Dict, Iterable, Optional, Tuple

import numpy as np
import torch
from torch import nn

from ..models.completion import TrainingFreeRestoration
from ..utils.io import atomic_path

__all__ = ['ScoreModel', 'input_shape', 'example_input', 'dataset_inputs',
           'export_onnx', 'onnx_session', 'compare_scores',
           'benchmark_latency']


class ScoreModel(nn.Module):
    """``inputs (N, num_clips, M, T, V, C)`` -> class scores ``(N, K)``, the
    computation of ``recognizer.predict`` without the data samples."""

    def __init__(self, recognizer: nn.Module) -> None:
        super().__init__()
        self.recognizer = recognizer

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        feats, _ = self.recognizer.extract_feat(inputs, stage='backbone')
        head = self.recognizer.cls_head
        return head.average_clip(head(feats), num_segs=inputs.shape[1])


def _find(pipeline, name: str) -> Dict:
    for t in pipeline:
        if isinstance(t, dict) and str(t.get('type', '')).split('.')[-1] \
                == name:
            return dict(t)
    return {}


def input_shape(model: nn.Module, pipeline, num_frames: Optional[int] = None,
                num_person: Optional[int] = None,
                batch_size: int = 1) -> Tuple[int, ...]:
    """``(N, num_clips, M, T, V, C)`` that the test pipeline feeds the
    model; ``num_frames`` / ``num_person`` override ``T`` / ``M`` (a
    completion module fixes ``T`` to its ``clip_len``)."""
    sampler = _find(pipeline, 'UniformSampleFrames')
    fmt = _find(pipeline, 'FormatGCNInput')
    completion = getattr(model, 'completion', None)
    clip_len = sampler.get('clip_len')
    if completion is not None:
        if num_frames is not None and num_frames != completion.clip_len:
            raise ValueError(
                f'--num-frames {num_frames}: the completion module works on '
                f'clips of exactly {completion.clip_len} frames.')
        clip_len = completion.clip_len
    num_frames = num_frames or clip_len
    if not num_frames:
        raise ValueError('The number of frames is unknown: the test pipeline '
                         'has no UniformSampleFrames(clip_len); pass '
                         '--num-frames.')
    backbone = model.backbone
    channels = getattr(backbone, 'pos_channels', None) or \
        backbone.in_channels
    if getattr(model, 'neck', None) is not None and \
            getattr(backbone, 'pos_channels', None) is None:
        channels -= model.neck.num_coords  # stock backbone: input + acc
    return (batch_size, int(sampler.get('num_clips', 1)),
            int(num_person or fmt.get('num_person', 2)), int(num_frames),
            int(backbone.graph.num_node), int(channels))


def example_input(shape: Tuple[int, ...], seed: int = 0,
                  missing: float = 0.5) -> torch.Tensor:
    """A smooth random input of ``shape`` with a share of its frames
    missing (zero), in normalised coordinates."""
    gen = torch.Generator().manual_seed(seed)
    num_frames = shape[3]
    t = torch.linspace(0, 1, num_frames)[:, None, None]
    base = torch.randn(shape, generator=gen) * 0.3
    x = base + 0.2 * torch.sin(6.28 * t + base)
    keep = torch.rand(shape[:4], generator=gen) >= missing
    keep[..., 0] = True
    return x * keep[..., None, None]


def dataset_inputs(cfg, num: int, batch_size: int = 1):
    """Model inputs ``(batch_size, num_clips, M, T, V, C)`` of ``num``
    samples of the config's test set (its test pipeline, corruption
    included), spread evenly over it."""
    from mmengine.dataset import pseudo_collate
    from mmengine.registry import init_default_scope

    from mmaction.registry import DATASETS
    from ..datasets.subset import subset_evenly
    init_default_scope('mmaction')
    dataset = subset_evenly(DATASETS.build(cfg.test_dataloader.dataset), num)
    for start in range(0, len(dataset) - batch_size + 1, batch_size):
        packed = pseudo_collate(
            [dataset[i] for i in range(start, start + batch_size)])
        yield torch.stack([torch.as_tensor(np.asarray(x))
                           for x in packed['inputs']]).float()


def export_onnx(model: nn.Module,
                out_file: str,
                shape: Tuple[int, ...],
                opset: int = 18,
                optimize: bool = True) -> str:
    """Export ``ScoreModel(model)`` for inputs of ``shape``, atomically
    (temp file + rename). Input ``inputs``, output ``scores``.
    ``optimize``: run the exporter's graph optimisation (about half of the
    export time; onnxruntime optimises the graph again when it loads it).

    The model is run once in PyTorch first: ②'s seeded test-time draws are
    made there and enter the graph as constants, and so do the terms ①'s
    training-free restoration derives from its bank (pinned for the export).
    """
    scorer = ScoreModel(model).eval()
    example = example_input(shape)
    with torch.no_grad():
        scorer(example)
    restorations = [(m.restoration, m.bank.sequences) for m in model.modules()
                    if isinstance(getattr(m, 'restoration', None),
                                  TrainingFreeRestoration)]
    for restoration, sequences in restorations:
        restoration.pin(sequences, example.dtype)
    try:
        with atomic_path(out_file, suffix='.onnx') as tmp, torch.no_grad():
            program = torch.onnx.export(
                scorer, (example, ), dynamo=True, opset_version=opset,
                input_names=['inputs'], output_names=['scores'],
                optimize=optimize, verbose=False)
            program.save(tmp)
    finally:
        for restoration, _ in restorations:
            restoration.unpin()
    return out_file


def onnx_session(path: str, threads: Optional[int] = None):
    """An onnxruntime CPU session of ``path``."""
    import onnxruntime as ort
    options = ort.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
    return ort.InferenceSession(path, options,
                                providers=['CPUExecutionProvider'])


def compare_scores(model: nn.Module, session,
                   inputs: Iterable[torch.Tensor]) -> Dict:
    """Class scores of PyTorch and onnxruntime on each input.

    Returns:
        dict: ``num_clips``, ``max_abs_diff``, ``top1_agree`` (fraction of
        inputs with the same top-1 class), ``top1_disagree`` (their
        indices).
    """
    scorer = ScoreModel(model).eval()
    diffs, disagree, count = [], [], 0
    for i, x in enumerate(inputs):
        with torch.no_grad():
            ref = scorer(x.float()).cpu().numpy()
        out = session.run(None, {'inputs': x.float().cpu().numpy()})[0]
        diffs.append(float(np.abs(out - ref).max()))
        same = out.argmax(-1) == ref.argmax(-1)
        if not same.all():
            disagree.append(i)
        count += 1
    return dict(num_clips=count,
                max_abs_diff=max(diffs) if diffs else float('nan'),
                top1_agree=1 - len(disagree) / max(count, 1),
                top1_disagree=disagree)


def benchmark_latency(model: nn.Module, session, inputs,
                      warmup: int = 2) -> Dict:
    """Median seconds per clip of PyTorch and onnxruntime on ``inputs``
    (a list of ``(1, ...)`` tensors), after ``warmup`` runs each."""
    scorer = ScoreModel(model).eval()
    times = dict(pytorch=[], onnxruntime=[])
    for k, x in enumerate(list(inputs)):
        arr = x.float().numpy()
        with torch.no_grad():
            start = time.perf_counter()
            scorer(x.float())
            mid = time.perf_counter()
        session.run(None, {'inputs': arr})
        end = time.perf_counter()
        if k >= warmup:
            times['pytorch'].append(mid - start)
            times['onnxruntime'].append(end - mid)
    return {k: float(np.median(v)) if v else float('nan')
            for k, v in times.items()}
