"""Statistics of the evidence protocol: intervals over training seeds and a
paired bootstrap over test videos.

Two kinds of uncertainty are reported, and they answer different questions:

* :func:`mean_ci` -- how much a model's score moves when it is *trained
  again* with another seed: the mean over seeds with a Student-t 95 %
  interval (few seeds, unknown variance);
* :func:`paired_bootstrap` -- whether model A beats model B *on this test
  set*: both are scored on the identical corrupted clips, so the per-video
  difference is resampled (videos drawn with replacement). Each model's
  per-video correctness is first averaged over its seeds, so the seeds'
  spread is averaged out, not resampled.

Everything is plain numpy (vectorised, seeded) so the numbers can be
recomputed from the stored per-video predictions.
"""
import math
from typing import Dict, Optional, Sequence

import numpy as np

#: Resamples of :func:`paired_bootstrap` by default.
NUM_BOOTSTRAP = 10000
#: Rows of resample indices drawn at a time (bounds memory: chunk x videos).
_CHUNK = 1000


def mean_ci(values: Sequence[float], confidence: float = 0.95) -> Dict:
    """Mean over seeds with a Student-t confidence interval.

    ``mean ± t_{(1+confidence)/2, n-1} · sd / sqrt(n)`` with the sample
    standard deviation (``ddof=1``).

    Args:
        values (Sequence[float]): One score per seed (NaNs are refused).
        confidence (float): Coverage of the interval. Defaults to 0.95.

    Returns:
        dict: ``mean``, ``sd``, ``half_width``, ``low``, ``high`` and ``n``.
        With one value there is no spread to estimate: ``sd``,
        ``half_width``, ``low`` and ``high`` are NaN (not zero, which would
        claim certainty).
    """
    from scipy import stats

    values = np.asarray(values, dtype=np.float64).reshape(-1)
    if values.size == 0:
        raise ValueError('mean_ci needs at least one value.')
    if not np.isfinite(values).all():
        raise ValueError(f'mean_ci got non-finite values: {values.tolist()}.')
    if not 0 < confidence < 1:
        raise ValueError(f'confidence must lie in (0, 1), got {confidence}.')
    n = values.size
    mean = float(values.mean())
    if n == 1:
        nan = float('nan')
        return dict(mean=mean, sd=nan, half_width=nan, low=nan, high=nan, n=1)
    sd = float(values.std(ddof=1))
    half = float(stats.t.ppf((1 + confidence) / 2, n - 1) * sd / math.sqrt(n))
    return dict(mean=mean, sd=sd, half_width=half, low=mean - half,
                high=mean + half, n=n)


def _per_video(correct, name: str) -> np.ndarray:
    """``(S, N)`` or ``(N,)`` correctness → ``(N,)`` mean over seeds."""
    correct = np.asarray(correct, dtype=np.float64)
    if correct.ndim == 1:
        correct = correct[None]
    if correct.ndim != 2 or correct.shape[1] == 0:
        raise ValueError(f'{name}: expected per-video correctness of shape '
                         f'(seeds, videos) or (videos,), got {correct.shape}.')
    if not np.isfinite(correct).all() or correct.min() < 0 or \
            correct.max() > 1:
        raise ValueError(f'{name}: correctness must lie in [0, 1].')
    return correct.mean(0)


def class_means(values: np.ndarray, labels: np.ndarray,
                index: Optional[np.ndarray] = None) -> np.ndarray:
    """Mean of ``values`` over the classes present, per row of ``index``.

    Args:
        values (np.ndarray): ``(N,)`` per-video values.
        labels (np.ndarray): ``(N,)`` int class of each video.
        index (np.ndarray, optional): ``(B, N)`` resampled video indices;
            ``None``: the videos as they are (``B = 1``).

    Returns:
        np.ndarray: ``(B,)``: per row, the average over the classes that
        occur in it of the class's mean value (the mean class accuracy of
        0/1 correctness); classes absent from a resample are left out.
    """
    if index is None:
        index = np.arange(len(values))[None]
    num_classes = int(labels.max()) + 1
    rows = index.shape[0]
    # one bincount for all rows: class k of row b goes to bin b*K + k
    bins = (labels[index] + num_classes * np.arange(rows)[:, None]).ravel()
    size = rows * num_classes
    sums = np.bincount(bins, weights=values[index].ravel(), minlength=size)
    counts = np.bincount(bins, minlength=size)
    sums, counts = (a.reshape(rows, num_classes) for a in (sums, counts))
    present = counts > 0
    per_class = np.divide(sums, counts, out=np.zeros_like(sums),
                          where=present)
    return per_class.sum(1) / present.sum(1)


def paired_bootstrap(correct_a,
                     correct_b,
                     labels: Optional[Sequence[int]] = None,
                     num_samples: int = NUM_BOOTSTRAP,
                     seed: int = 0,
                     confidence: float = 0.95) -> Dict:
    """Paired bootstrap over test videos of ``accuracy(A) - accuracy(B)``.

    Both models must have been scored on the same videos with the same
    masks, in the same order. Per video, each model's correctness is
    averaged over its seeds; resamples draw ``N`` videos with replacement
    (the same draw for both models: that is the pairing).

    Args:
        correct_a, correct_b: ``(S, N)`` (seeds x videos) or ``(N,)``
            correctness in ``[0, 1]`` (top-1 hits); the seed counts may
            differ.
        labels (Sequence[int], optional): ``(N,)`` classes; adds the same
            statistics for the mean class accuracy.
        num_samples (int): Bootstrap resamples. Defaults to 10000.
        seed (int): Seed of the resampling (the result is reproducible).
        confidence (float): Coverage of the percentile interval.

    Returns:
        dict: ``top1`` (and ``mean_class_acc`` with ``labels``), each with
        ``diff`` (the observed difference), ``low`` / ``high`` (the
        ``(1 ± confidence) / 2`` percentiles of the resampled differences),
        ``p_le_zero`` (fraction of resamples with a difference <= 0), plus
        ``num_videos``, ``num_samples``, ``seed``.
    """
    a = _per_video(correct_a, 'correct_a')
    b = _per_video(correct_b, 'correct_b')
    if a.shape != b.shape:
        raise ValueError(f'The models were scored on different numbers of '
                         f'videos ({a.size} vs {b.size}); a paired bootstrap '
                         'needs the same videos.')
    if num_samples < 1:
        raise ValueError(f'num_samples must be >= 1, got {num_samples}.')
    if not 0 < confidence < 1:
        raise ValueError(f'confidence must lie in (0, 1), got {confidence}.')
    if labels is not None:
        labels = np.asarray(labels).reshape(-1)
        if labels.shape != a.shape or not np.issubdtype(labels.dtype,
                                                        np.integer) or \
                labels.min() < 0:
            raise ValueError(f'labels must be {a.size} non-negative ints, '
                             f'got shape {labels.shape}, dtype '
                             f'{labels.dtype}.')
    diff = a - b
    n = diff.size
    rng = np.random.default_rng(seed)
    top1, mca = [], []
    for start in range(0, num_samples, _CHUNK):
        index = rng.integers(0, n, (min(_CHUNK, num_samples - start), n))
        top1.append(diff[index].mean(1))
        if labels is not None:
            mca.append(class_means(diff, labels, index))
    tail = 100 * (1 - confidence) / 2

    def summary(observed, resampled):
        resampled = np.concatenate(resampled)
        low, high = np.percentile(resampled, [tail, 100 - tail])
        return dict(diff=float(observed), low=float(low), high=float(high),
                    p_le_zero=float((resampled <= 0).mean()))

    out = dict(top1=summary(diff.mean(), top1))
    if labels is not None:
        out['mean_class_acc'] = summary(class_means(diff, labels)[0], mca)
    out.update(num_videos=n, num_samples=int(num_samples), seed=seed)
    return out


def ratio_bootstrap(errors,
                    references: Sequence,
                    num_samples: int = NUM_BOOTSTRAP,
                    seed: int = 0,
                    confidence: float = 0.95) -> Dict:
    """Paired bootstrap over clips of ``sum(errors) / min_r sum(r)``.

    The restoration benchmark's "completion / min(interp, Akima)": a
    method's summed error over the better of the references, each summed
    over the same clips (same masks, same order). Every resample draws the
    clips with replacement, the same draw for all, and takes the better
    reference *of that draw*.

    Args:
        errors: ``(N,)`` per-clip error sums of the method.
        references (Sequence): ``(N,)`` per-clip error sums of each
            reference.
        num_samples (int): Bootstrap resamples. Defaults to 10000.
        seed (int): Seed of the resampling.
        confidence (float): Coverage of the percentile interval.

    Returns:
        dict: ``ratio`` (observed), ``low`` / ``high`` (percentile
        interval), ``p_above_one`` (fraction of resamples above 1),
        ``num_clips``.
    """
    a = np.asarray(errors, dtype=np.float64).reshape(-1)
    refs = np.stack([np.asarray(r, dtype=np.float64).reshape(-1)
                     for r in references])
    if refs.shape[1] != a.size or a.size == 0:
        raise ValueError(f'ratio_bootstrap needs the same non-empty clips '
                         f'for all: {a.size} vs {refs.shape[1]}.')
    if num_samples < 1 or not 0 < confidence < 1:
        raise ValueError(f'num_samples >= 1 and confidence in (0, 1), got '
                         f'{num_samples} and {confidence}.')
    rng = np.random.default_rng(seed)
    ratios = []
    for start in range(0, num_samples, _CHUNK):
        index = rng.integers(0, a.size, (min(_CHUNK, num_samples - start),
                                         a.size))
        best = refs[:, index].sum(-1).min(0)
        ratios.append(a[index].sum(-1) / np.maximum(best, 1e-300))
    ratios = np.concatenate(ratios)
    tail = 100 * (1 - confidence) / 2
    low, high = np.percentile(ratios, [tail, 100 - tail])
    return dict(ratio=float(a.sum() / max(refs.sum(-1).min(), 1e-300)),
                low=float(low), high=float(high),
                p_above_one=float((ratios > 1).mean()), num_clips=int(a.size))
