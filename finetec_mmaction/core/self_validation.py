"""Safe restoration: how much of Akima's spline and of the retrieval detail
a gap gets, decided by evidence, so that where they do not help a clip it
keeps linear interpolation.

Each missing frame of a gap of length ``L`` is restored as::

    linear + alpha * (akima - linear) + gamma * beta(L) * detail

* ``gamma`` in ``[0, 1]`` is the clip's **retrieval confidence**
  (:func:`retrieval_confidence`): how well its nearest bank sequence fits
  its observed frames, against how well bank sequences fit each other with
  as many frames observed. A clip the bank explains as well as it explains
  itself takes the detail; one it explains twice as badly (another class,
  view or person) takes none.
* ``beta(L)`` and the ``alpha`` that goes with the detail are chosen per
  gap-length class by **self-validation on the bank**
  (:func:`calibrate_blend`): bank sequences are masked like the data, restored
  from the rest of the bank (leave-one-out), and the ``(alpha, beta)`` of a
  small grid with the lowest MPJPE there is kept.
* The clip's **own self-validation** (:func:`interpolation_preference`)
  settles linear against Akima: its observed frames are hidden in the
  pattern of its own gaps (the mask moved by a quarter and an eighth of its
  mean gap length, both ways), restored by both, and where one of them is
  better on those frames by a paired z-score above ``z_threshold`` it is
  used (z 4 was chosen on validation banks carved from the training
  splits, docs/experiments/safe_restoration.md: lower thresholds switch too
  many clips on noise). Without that evidence a clip keeps Akima's spline
  where it takes no detail and the bank's choice where it does.

Three more signals from the bank are opt-in trade-offs
(:mod:`finetec_mmaction.core.neighbour_evidence`; on the validation banks
each helps data like the bank and costs the class-disjoint one, or the
reverse): the neighbours' own linear-vs-Akima check, a gate on the detail
by how much the neighbours agree on it beyond chance, and one by how well
neighbours found on half of the clip predict its other half (the best
trade-off measured; it costs a second and third retrieval).

Every quantity is a ratio or a count of frames, so nothing depends on the
coordinate system (pixels after ``PreNormalize2D``, metres after
``PreNormalize3D``). Per-clip self-validation of the retrieval detail itself
(its frames after each gap hidden, restored with and without the detail)
was measured and not kept: on Penn Action it took more from the normal bank
than it gave the class-disjoint one (docs/experiments/safe_restoration.md).
"""
from typing import NamedTuple, Optional, Sequence, Tuple

import numpy as np
import torch

from .fill import akima_fill, gap_distances, linear_fill
from .masking import frame_speed, sample_valid_mask
from .retrieval import RetrievalBank, retrieval_detail

#: Lower edges, in frames, of the gap-length classes of :func:`gap_bins`.
GAP_BIN_EDGES = (1, 2, 4, 8, 16, 32, 64, 128)
#: Probe masks: the clip's mask moved by these fractions of its mean gap
#: length (:func:`probe_masks`).
PROBE_SHIFTS = (-0.25, -0.125, 0.125, 0.25)
#: Lower edges of the observed-fraction classes of ``BlendTable.fit_ref``.
OBSERVED_EDGES = (0.0, 0.2, 0.4, 0.6, 0.8)
#: Masks of the bank self-validation (:func:`calibrate_blend`).
CALIBRATION_STRATEGIES = ('random', 'in-between', 'burst', 'motion')


class BlendTable(NamedTuple):
    """What :func:`calibrate_blend` learns from a bank.

    Attributes:
        alpha (torch.Tensor): ``(G,)`` weight of Akima's spline over linear
            interpolation, with the detail, per gap-length class.
        beta (torch.Tensor): ``(G,)`` weight of the retrieval detail.
        fit_ref (torch.Tensor): ``(R,)`` the median fit
            (:func:`~finetec_mmaction.core.retrieval.retrieval_detail`'s
            ``return_fit``) of bank sequences against the rest of the bank,
            per class of :data:`OBSERVED_EDGES` (a clip with fewer observed
            frames is fitted more easily).
    """
    alpha: torch.Tensor
    beta: torch.Tensor
    fit_ref: torch.Tensor


def gap_lengths(valid: torch.Tensor) -> torch.Tensor:
    """``(B, T)`` float: the length of the gap each missing frame lies in,
    0 on observed frames (``valid`` ``(B, T)`` bool)."""
    d_prev, d_next = gap_distances(valid.bool())
    return (d_prev + d_next - 1).clamp(min=0)


def gap_bins(valid: torch.Tensor,
             edges: Sequence[int] = GAP_BIN_EDGES) -> torch.Tensor:
    """``(B, T)`` long: the class of :data:`GAP_BIN_EDGES` of each frame's
    gap length (observed frames fall in class 0)."""
    edges = torch.as_tensor(list(edges), device=valid.device,
                            dtype=torch.float32)
    length = gap_lengths(valid)[..., None]
    return ((length >= edges).sum(-1) - 1).clamp(min=0)


def probe_masks(valid: torch.Tensor,
                shifts: Sequence[float] = PROBE_SHIFTS) -> torch.Tensor:
    """Observed frames to hide for self-validation, in the pattern of the
    clip's own gaps.

    Probe ``p`` moves the clip's mask by ``round(shifts[p] * L)`` frames
    (at least one, ``L`` the mean length of the clip's gaps) and hides the
    observed frames the moved mask misses: the frames next to each gap,
    so that each probe gap is a real gap made a little longer. The clip's
    first and last observed frames are never hidden (outside them every
    fill holds the end frame, which tells nothing).

    Args:
        valid (torch.Tensor): ``(B, T)`` bool.
        shifts (Sequence[float]): Fractions of ``L``, signed.

    Returns:
        torch.Tensor: ``(P, B, T)`` bool, a subset of ``valid`` each.
    """
    valid = valid.bool()
    num_frames = valid.shape[1]
    missing = ~valid
    mean_gap = (gap_lengths(valid) * missing).sum(1) / \
        missing.sum(1).clamp(min=1)
    frames = torch.arange(num_frames, device=valid.device)
    first = torch.where(valid, frames, num_frames).amin(1, keepdim=True)
    last = torch.where(valid, frames, -1).amax(1, keepdim=True)
    inside = (frames > first) & (frames < last)
    hidden = []
    for fraction in shifts:
        step = (mean_gap * fraction).round()
        sign = 1.0 if fraction > 0 else -1.0
        step = torch.where(step == 0, torch.full_like(step, sign),
                           step).long()
        source = (frames[None] - step[:, None]).clamp(0, num_frames - 1)
        hidden.append(valid & inside & ~valid.gather(1, source))
    return torch.stack(hidden)


def frame_errors(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """``(B, T)`` mean per-joint Euclidean error of ``(B, T, K, C)``."""
    return (pred - target).square().sum(-1).sqrt().mean(-1)


def interpolation_preference(
        x: torch.Tensor,
        valid: torch.Tensor,
        shifts: Sequence[float] = PROBE_SHIFTS) -> torch.Tensor:
    """Self-validation of Akima's spline against linear interpolation.

    The frames of :func:`probe_masks` are hidden and restored by both; the
    paired differences of their per-frame errors (linear minus Akima), over
    every probe, give a z-score per clip.

    Args:
        x (torch.Tensor): ``(B, T, K, C)`` coordinates, missing frames any.
        valid (torch.Tensor): ``(B, T)`` bool.
        shifts (Sequence[float]): See :func:`probe_masks`.

    Returns:
        torch.Tensor: ``(B,)`` z: positive where Akima restores the clip's
        own hidden frames better, negative where linear does; 0 without at
        least two hidden frames.
    """
    valid = valid.bool()
    diffs, hidden_all = [], []
    for hidden in probe_masks(valid, shifts):
        kept = valid & ~hidden
        probe = x * kept[..., None, None].to(x.dtype)
        diffs.append(frame_errors(linear_fill(probe, kept), x) -
                     frame_errors(akima_fill(probe, kept), x))
        hidden_all.append(hidden)
    return paired_z(torch.cat(diffs, 1), torch.cat(hidden_all, 1))


def paired_z(diff: torch.Tensor, hidden: torch.Tensor) -> torch.Tensor:
    """``(B,)`` z-score of the mean of ``diff`` ``(B, F)`` over the frames
    ``hidden`` ``(B, F)`` (paired differences of two restorations' errors
    on the same frames); 0 with fewer than two frames."""
    diff = diff * hidden
    count = hidden.sum(1).to(diff.dtype)
    n = count.clamp(min=1)
    mean = diff.sum(1) / n
    spread = (diff.square().sum(1) / n - mean.square()).clamp(min=0).sqrt()
    z = mean * n.sqrt() / spread.clamp(min=1e-12)
    return torch.where(count >= 2, z, torch.zeros_like(z))


def observed_bins(valid: torch.Tensor) -> torch.Tensor:
    """``(B,)`` long: the class of :data:`OBSERVED_EDGES` of each clip's
    fraction of observed frames (``valid`` ``(B, T)``)."""
    edges = torch.as_tensor(OBSERVED_EDGES, device=valid.device)
    fraction = valid.float().mean(1, keepdim=True)
    return ((fraction >= edges).sum(-1) - 1).clamp(min=0)


def ramp(value: torch.Tensor, low: float, high: float) -> torch.Tensor:
    """0 up to ``low``, 1 from ``high``, linear in between."""
    return ((value - low) / (high - low)).clamp(0, 1)


def retrieval_confidence(fit: torch.Tensor, fit_ref: torch.Tensor,
                         valid: torch.Tensor,
                         novelty: Tuple[float, float] = (1.0, 2.0)
                         ) -> torch.Tensor:
    """``(B,)`` in ``[0, 1]``: 1 where a clip's fit is at most
    ``novelty[0]`` times the bank's own at the same observed fraction
    (``fit_ref`` ``(R,)``, ``valid`` ``(B, T)``), 0 from ``novelty[1]``
    times it, linear in between."""
    reference = fit_ref.to(fit.dtype)[observed_bins(valid)]
    return 1 - ramp(fit / reference.clamp(min=1e-12), *novelty)


def safe_blend(linear: torch.Tensor,
               akima: torch.Tensor,
               valid: torch.Tensor,
               preference: torch.Tensor,
               detail: Optional[torch.Tensor] = None,
               fit: Optional[torch.Tensor] = None,
               table: Optional[BlendTable] = None,
               z_threshold: float = 4.0,
               novelty: Tuple[float, float] = (1.0, 2.0),
               neighbour_z: Optional[torch.Tensor] = None,
               neighbour_threshold: float = 2.0,
               agreement: Optional[torch.Tensor] = None,
               agreement_range: Tuple[float, float] = (3.0, 6.0),
               cross_ratio: Optional[torch.Tensor] = None,
               cross_range: Tuple[float, float] = (2.0, 6.0)
               ) -> torch.Tensor:
    """Combine the candidates as the module docstring says.

    Args:
        linear, akima (torch.Tensor): ``(B, T, K, C)`` the two fills.
        valid (torch.Tensor): ``(B, T)`` bool.
        preference (torch.Tensor): ``(B,)`` :func:`interpolation_preference`.
        detail (torch.Tensor, optional): ``(B, T, K, C)`` retrieval detail.
        fit (torch.Tensor, optional): ``(B,)`` the clips' retrieval fit.
        table (BlendTable, optional): The bank's calibration; needed with
            ``detail``.
        z_threshold (float): The clip's own evidence decides where
            ``|preference|`` exceeds it.
        novelty (tuple): See :func:`retrieval_confidence`.
        neighbour_z (torch.Tensor, optional): ``(B,)``
            :func:`~finetec_mmaction.core.neighbour_evidence.neighbour_preference`;
            below ``-neighbour_threshold``
            a clip without its own evidence keeps linear interpolation
            rather than Akima's spline.
        neighbour_threshold (float): See ``neighbour_z``.
        agreement (torch.Tensor, optional): ``(B,)``
            :func:`~finetec_mmaction.core.neighbour_evidence.detail_agreement`;
            scales ``gamma`` from 0 at ``agreement_range[0]`` to 1 at
            ``agreement_range[1]``.
        agreement_range (tuple): See ``agreement``.
        cross_ratio (torch.Tensor, optional): ``(B,)``
            :func:`~finetec_mmaction.core.neighbour_evidence.cross_prediction`;
            scales ``gamma`` from 1 at ``cross_range[0]`` to 0 at
            ``cross_range[1]`` (``nan``: unchanged).
        cross_range (tuple): See ``cross_ratio``.

    Returns:
        torch.Tensor: ``(B, T, K, C)``; ``linear`` where every weight is 0.
    """
    z = preference[:, None, None, None]
    prefer_akima, prefer_linear = z > z_threshold, z < -z_threshold
    ones, zeros = torch.ones_like(z), torch.zeros_like(z)
    # no detail: Akima's spline unless the clip shows linear interpolation
    # is better, or else its neighbours do
    alpha = ones
    if neighbour_z is not None:
        alpha = torch.where(
            neighbour_z[:, None, None, None] < -neighbour_threshold,
            zeros, ones)
    alpha = torch.where(prefer_akima, ones,
                        torch.where(prefer_linear, zeros, alpha))
    out_alpha = alpha
    if detail is not None:
        if fit is None or table is None:
            raise ValueError('safe_blend needs fit and table with detail.')
        gamma = retrieval_confidence(fit, table.fit_ref, valid,
                                     novelty)[:, None, None, None]
        if agreement is not None:
            gamma = gamma * ramp(agreement, *agreement_range)[:, None, None,
                                                               None]
        if cross_ratio is not None:
            carried = 1 - ramp(cross_ratio, *cross_range)
            # nan (a half without observed frames): no evidence, no change
            carried = torch.where(torch.isnan(cross_ratio),
                                  torch.ones_like(carried), carried)
            gamma = gamma * carried[:, None, None, None]
        bins = gap_bins(valid)
        with_detail = table.alpha.to(akima.dtype)[bins][..., None, None]
        with_detail = torch.where(
            prefer_akima, ones,
            torch.where(prefer_linear, zeros, with_detail))
        out_alpha = (1 - gamma) * alpha + gamma * with_detail
    out = linear + out_alpha * (akima - linear)
    if detail is not None:
        beta = table.beta.to(akima.dtype)[bins][..., None, None]
        out = out + gamma * beta * detail
    return out


def calibration_masks(sequences: np.ndarray, num_samples: int,
                      seed: int = 0,
                      strategies: Sequence[str] = CALIBRATION_STRATEGIES,
                      ratio_range: Tuple[float, float] = (0.1, 0.9)
                      ) -> Tuple[np.ndarray, np.ndarray]:
    """``num_samples`` bank indices and masks ``(S, T)`` for
    :func:`calibrate_blend`: a strategy and a ratio drawn per sample, from
    a generator seeded by ``seed`` (the same calibration every time)."""
    rng = np.random.default_rng(seed)
    num_seqs, num_frames = sequences.shape[:2]
    index = rng.choice(num_seqs, num_samples, replace=num_seqs < num_samples)
    masks = []
    for i in index:
        strategy = strategies[rng.integers(len(strategies))]
        speed = frame_speed(sequences[i][None]) \
            if strategy == 'motion' else None
        masks.append(
            sample_valid_mask(num_frames, rng.uniform(*ratio_range),
                              strategy, rng, speed=speed))
    return index, np.stack(masks)


def calibrate_blend(sequences: torch.Tensor,
                    bank: RetrievalBank,
                    retrieval: dict,
                    method: str = 'akima',
                    num_samples: int = 512,
                    seed: int = 0,
                    grid: Sequence[float] = (0.0, 0.25, 0.5, 0.75, 1.0),
                    tolerance: float = 0.01,
                    min_frames: int = 50,
                    chunk: int = 64) -> BlendTable:
    """Self-validation on the bank: the :class:`BlendTable` of a bank.

    ``num_samples`` bank sequences are masked (:func:`calibration_masks`)
    and restored from the rest of the bank (their own sequence left out);
    per gap-length class, the ``(alpha, beta)`` of ``grid`` x ``grid`` with
    the lowest summed per-frame MPJPE is kept -- among those within
    ``tolerance`` of it, the one with the least detail. A class with fewer
    than ``min_frames`` missing frames takes the previous class's choice.

    Args:
        sequences (torch.Tensor): ``(N, T, K, C)`` the bank's coordinates.
        bank (RetrievalBank): Their prepared retrieval terms.
        retrieval (dict): Keyword arguments of
            :func:`~finetec_mmaction.core.retrieval.retrieval_detail`.
        method (str): The fill the detail is measured against.

    Returns:
        BlendTable
    """
    index, masks = calibration_masks(sequences.cpu().numpy(), num_samples,
                                     seed)
    weights = torch.as_tensor(list(grid), dtype=sequences.dtype)
    alpha_grid, beta_grid = (w.reshape(-1) for w in torch.meshgrid(
        weights, weights, indexing='ij'))
    num_bins = len(GAP_BIN_EDGES)
    totals = torch.zeros(num_bins, len(alpha_grid), dtype=torch.float64)
    counts = torch.zeros(num_bins, dtype=torch.long)
    fits, observed = [], []
    with torch.no_grad():
        for start in range(0, len(index), chunk):
            gt = sequences[torch.as_tensor(index[start:start + chunk])]
            valid = torch.as_tensor(masks[start:start + chunk],
                                    device=gt.device)
            x = gt * valid[..., None, None].to(gt.dtype)
            linear = linear_fill(x, valid)
            akima = akima_fill(x, valid)
            detail, fit = retrieval_detail(
                x, valid, bank, skip_nearest=1, method=method,
                return_fit=True, **retrieval)
            fits.append(fit)
            observed.append(observed_bins(valid))
            errors = torch.stack([
                frame_errors(linear + a * (akima - linear) + b * detail, gt)
                for a, b in zip(alpha_grid, beta_grid)
            ], -1)  # (B, T, G)
            bins = gap_bins(valid)
            missing = ~valid
            for k in range(num_bins):
                frames = missing & (bins == k)
                totals[k] += errors[frames].sum(0).double().cpu()
                counts[k] += int(frames.sum())
    alpha = torch.ones(num_bins, dtype=sequences.dtype)
    beta = torch.zeros(num_bins, dtype=sequences.dtype)
    for k in range(num_bins):
        if counts[k] < min_frames:
            if k:
                alpha[k], beta[k] = alpha[k - 1], beta[k - 1]
            continue
        total = totals[k]
        near_best = total <= total.min() * (1 + tolerance)
        least = beta_grid[near_best].min()
        choice = torch.where(near_best & (beta_grid == least), total,
                             torch.full_like(total, float('inf'))).argmin()
        alpha[k], beta[k] = alpha_grid[choice], beta_grid[choice]
    fits, observed = torch.cat(fits), torch.cat(observed)
    fit_ref = torch.stack([
        fits[observed == r].median() if (observed == r).any() else
        fits.median() for r in range(len(OBSERVED_EDGES))
    ])
    return BlendTable(alpha.to(sequences.device), beta.to(sequences.device),
                      fit_ref)
