"""Restoration metrics of missing frames (SPEC §①): MPJPE, N-MPJPE, MPJVE.

All errors are measured on the **missing** frames only, in the normalised
coordinates the model sees, over the coordinate channels only (the score
channel of 2D input is excluded). Definitions, per sequence (one clip of one
person) with missing frames ``F`` and evaluated joints ``J``:

* MPJPE = mean over ``(t, j) ∈ F × J`` of ``‖pred[t, j] - gt[t, j]‖₂``.
* N-MPJPE = MPJPE after scaling the prediction by the per-sequence optimal
  factor ``s = Σ<gt, pred> / Σ<pred, pred>`` (sums over ``F × J``; the
  least-squares scale of Rhodin et al. 2018, computed per sample; no
  centring, as the coordinates are already image-centred).
* MPJVE = mean of ``‖Δpred - Δgt‖₂`` over velocities ``Δx[t] = x[t+1] - x[t]``
  whose two frames are not both observed (observed frames are copied, so the
  others carry no error).

Dataset-level values are means over all evaluated joint-frames (and joint
velocities) of all sequences; N-MPJPE uses each sequence's own scale.
"""
from collections import defaultdict
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from mmengine.evaluator import BaseMetric

from mmaction.registry import METRICS
from ...core.fill import fill_missing_frames

#: Names of the errors and the count each is averaged over.
ERROR_KEYS = (('mpjpe', 'num_joint_frames'), ('n_mpjpe', 'num_joint_frames'),
              ('mpjve', 'num_joint_velocities'))
#: Classical fills that can be scored next to a model.
BASELINES = ('zero', 'nearest', 'linear', 'akima')


def _to_numpy(x) -> np.ndarray:
    if hasattr(x, 'detach'):
        x = x.detach().cpu().numpy()
    return np.asarray(x)


def restoration_errors(pred,
                       gt,
                       valid,
                       coord_channels: int = 2,
                       joints: Optional[Sequence[int]] = None
                       ) -> Dict[str, np.ndarray]:
    """Per-sequence error sums of a restoration (the pure core).

    Args:
        pred (array-like): ``(N, T, V, C)`` restored sequences.
        gt (array-like): ``(N, T, V, C)`` clean sequences.
        valid (array-like): ``(N, T)`` bool, ``True`` where observed; only the
            other frames are scored.
        coord_channels (int): Leading channels that are coordinates (2 for
            ``(x, y, score)``, 3 for 3D).
        joints (Sequence[int], optional): Joints to score (e.g. Penn Action's
            13 annotated joints ``[0, 5, ..., 16]``); all by default.

    Returns:
        dict: ``(N,)`` float64 arrays: ``mpjpe``, ``n_mpjpe``, ``mpjve``
        (*sums* of joint errors), ``num_joint_frames``,
        ``num_joint_velocities`` (their counts). Divide summed sums by summed
        counts (:func:`summarize_errors`) for dataset means.
    """
    pred = _to_numpy(pred).astype(np.float64)
    gt = _to_numpy(gt).astype(np.float64)
    valid = _to_numpy(valid).astype(bool)
    if pred.shape != gt.shape or pred.ndim != 4:
        raise ValueError(f'pred and gt must both be (N, T, V, C); got '
                         f'{pred.shape} and {gt.shape}.')
    if valid.shape != pred.shape[:2]:
        raise ValueError(f'valid must be (N, T) = {pred.shape[:2]}, got '
                         f'{valid.shape}.')
    if not 0 < coord_channels <= pred.shape[-1]:
        raise ValueError(f'coord_channels={coord_channels} but the data has '
                         f'{pred.shape[-1]} channels.')
    joint_idx = slice(None) if joints is None else list(joints)
    pred = pred[:, :, joint_idx, :coord_channels]
    gt = gt[:, :, joint_idx, :coord_channels]
    num_joints = pred.shape[2]
    missing = ~valid  # (N, T)

    err = np.linalg.norm(pred - gt, axis=-1)  # (N, T, J)
    mpjpe = (err * missing[..., None]).sum((1, 2))

    w = missing[..., None, None]
    dot = (gt * pred * w).sum((1, 2, 3))
    norm = (pred * pred * w).sum((1, 2, 3))
    scale = np.divide(dot, norm, out=np.ones_like(dot), where=norm > 0)
    n_err = np.linalg.norm(scale[:, None, None, None] * pred - gt, axis=-1)
    n_mpjpe = (n_err * missing[..., None]).sum((1, 2))

    vel_err = np.linalg.norm(np.diff(pred, axis=1) - np.diff(gt, axis=1),
                             axis=-1)  # (N, T-1, J)
    vel_mask = ~(valid[:, 1:] & valid[:, :-1])
    mpjve = (vel_err * vel_mask[..., None]).sum((1, 2))

    return dict(
        mpjpe=mpjpe,
        n_mpjpe=n_mpjpe,
        mpjve=mpjve,
        num_joint_frames=missing.sum(1).astype(np.float64) * num_joints,
        num_joint_velocities=vel_mask.sum(1).astype(np.float64) * num_joints)


def summarize_errors(errors: Sequence[Dict[str, np.ndarray]]
                     ) -> Dict[str, float]:
    """Dataset means from :func:`restoration_errors` outputs (or per-sample
    sums of them): ``{'mpjpe': .., 'n_mpjpe': .., 'mpjve': ..}``; NaN where
    nothing was missing."""
    out = {}
    for key, count_key in ERROR_KEYS:
        total = sum(float(np.sum(e[key])) for e in errors)
        count = sum(float(np.sum(e[count_key])) for e in errors)
        out[key] = total / count if count > 0 else float('nan')
    return out


def baseline_fill(gt, valid, method: str) -> np.ndarray:
    """Restore with a classical fill what the corruption left of ``gt``.

    The corrupted input is ``gt`` with the missing frames zeroed (exactly
    what :class:`TemporalCorruption` produces), so no extra input is needed.

    Args:
        gt (array-like): ``(N, T, V, C)`` clean sequences.
        valid (array-like): ``(N, T)`` bool.
        method (str): ``'zero'`` (leave zeros), ``'nearest'`` (duplicate the
            nearest observed frame), ``'linear'`` (interpolate) or
            ``'akima'`` (piecewise-cubic interpolation), the last three by
            :func:`finetec_mmaction.core.fill.fill_missing_frames`.

    Returns:
        np.ndarray: ``(N, T, V, C)`` restored sequences.
    """
    if method not in BASELINES:
        raise ValueError(f'Unknown baseline {method!r}; expected one of '
                         f'{BASELINES}.')
    gt = _to_numpy(gt)
    valid = _to_numpy(valid).astype(bool)
    corrupted = gt * valid[..., None, None]
    if method == 'zero':
        return corrupted
    return np.stack([
        fill_missing_frames(seq, val, method, axis=0)
        for seq, val in zip(corrupted, valid)
    ])


def _group_name(strategy, ratio) -> Optional[str]:
    if strategy is None and ratio is None:
        return None
    ratio = '?' if ratio is None else f'{round(float(ratio), 4):g}'
    return f'{strategy or "?"}@{ratio}'


@METRICS.register_module()
class CompletionMetric(BaseMetric):
    """MPJPE / N-MPJPE / MPJVE of restored missing frames.

    Reads from each predicted data sample ``pred_keypoint``
    ``(num_clips, M, T, V, C)``, ``keypoint_clean`` (same shape),
    ``frame_valid`` ``(num_clips, T)`` and, when present in the metainfo,
    ``corrupt_strategy`` / ``corrupt_ratio`` (pass them with
    ``PackActionInputs(meta_keys=(..., 'corrupt_ratio',
    'corrupt_strategy'))``). Persons whose clean sequence is all zero
    (padding) are skipped.

    Keys (with the ``completion/`` prefix): ``mpjpe``, ``n_mpjpe``,
    ``mpjve`` and per group ``{strategy}@{ratio}/{error}``, e.g.
    ``random@0.75/mpjpe``; for every baseline ``b`` the same under ``b/``,
    e.g. ``linear/mpjpe``, ``linear/random@0.75/mpjpe``.

    Args:
        coord_channels (int): Coordinate channels (the score channel after
            them is excluded). Defaults to 2.
        joints (Sequence[int], optional): Joints to score, e.g. Penn Action's
            annotated ``[0, 5, 6, ..., 16]``. Defaults to all.
        pred_key (str, optional): Field holding the restoration; ``None``
            scores only the baselines. Defaults to ``'pred_keypoint'``.
        baselines (Sequence[str]): Classical fills to score on the same
            samples: any of ``'zero'``, ``'nearest'``, ``'linear'``,
            ``'akima'``.
        collect_device (str): Defaults to ``'cpu'``.
        prefix (str, optional): Defaults to ``'completion'``.
    """

    default_prefix: Optional[str] = 'completion'

    def __init__(self,
                 coord_channels: int = 2,
                 joints: Optional[Sequence[int]] = None,
                 pred_key: Optional[str] = 'pred_keypoint',
                 baselines: Sequence[str] = (),
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        unknown = set(baselines) - set(BASELINES)
        if unknown:
            raise ValueError(f'Unknown baselines {sorted(unknown)}; expected '
                             f'any of {BASELINES}.')
        if pred_key is None and not baselines:
            raise ValueError('Nothing to score: pred_key is None and no '
                             'baselines are given.')
        self.coord_channels = coord_channels
        self.joints = None if joints is None else list(joints)
        self.pred_key = pred_key
        self.baselines = tuple(baselines)

    @staticmethod
    def _sequences(sample: Dict, key: str) -> np.ndarray:
        if key not in sample:
            raise KeyError(
                f'CompletionMetric needs "{key}" in every data sample (got '
                f'{sorted(sample)}); keep the clean sequence with '
                f'TemporalCorruption(keep_clean=True) + '
                f'FormatCorruptionTargets + PackActionInputs(algorithm_keys='
                f'("frame_valid", "keypoint_clean")).')
        x = _to_numpy(sample[key])
        if x.ndim == 4:  # (M, T, V, C) of a single clip
            x = x[None]
        return x

    def process(self, data_batch, data_samples: Sequence[Dict]) -> None:
        for sample in data_samples:
            gt = self._sequences(sample, 'keypoint_clean')
            valid = self._sequences(sample, 'frame_valid').reshape(
                gt.shape[0], 1, gt.shape[2]).astype(bool)
            valid = np.broadcast_to(valid, gt.shape[:3])
            gt = gt.reshape((-1, ) + gt.shape[2:])
            valid = valid.reshape(-1, gt.shape[1])
            present = np.any(gt != 0, axis=(1, 2, 3))
            gt, valid = gt[present], valid[present]

            preds = {}
            if self.pred_key is not None:
                pred = self._sequences(sample, self.pred_key)
                preds[None] = pred.reshape((-1, ) + pred.shape[2:])[present]
            for method in self.baselines:
                preds[method] = baseline_fill(gt, valid, method)

            result = dict(
                group=_group_name(
                    sample.get('corrupt_strategy'),
                    sample.get('corrupt_ratio')),
                errors={})
            for name, pred in preds.items():
                errors = restoration_errors(pred, gt, valid,
                                            self.coord_channels, self.joints)
                # keep sums only: results are gathered across ranks
                result['errors'][name] = {
                    k: float(v.sum())
                    for k, v in errors.items()
                }
            self.results.append(result)

    def compute_metrics(self, results: List[Dict]) -> Dict[str, float]:
        grouped: Dict[Tuple, List] = defaultdict(list)
        for res in results:
            for name, errors in res['errors'].items():
                grouped[(name, None)].append(errors)
                if res['group'] is not None:
                    grouped[(name, res['group'])].append(errors)
        metrics = {}
        names = ([None] if self.pred_key is not None else []) + list(
            self.baselines)
        for name in names:
            groups = [None] + sorted(
                {g for (n, g) in grouped if n == name and g is not None})
            for group in groups:
                summary = summarize_errors(grouped.get((name, group), []))
                for key, value in summary.items():
                    parts = [p for p in (name, group, key) if p is not None]
                    metrics['/'.join(parts)] = value
        return metrics
