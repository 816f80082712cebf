"""Restoring missing frames from the observed ones, and telling them apart.

One implementation of the classical fills -- linear interpolation and
nearest-frame duplication (the paper's "Interpolation" and "Duplication"
rows) -- in torch, batched with a mask per sequence and differentiable, so
that the pipeline transforms (numpy, through :func:`fill_missing_frames`),
the completion network (a residual over :func:`linear_fill`) and the region
perturbations all share it.
"""
from typing import NamedTuple, Optional, Sequence, Tuple, Union

import numpy as np
import torch


def frame_validity(data, time_axis: int = -3):
    """Frames that carry data: not exactly zero over joints and channels.

    A missing frame is zero-filled in place (coordinates *and* score), so the
    mask can be recovered from the tensor itself anywhere after the
    corruption transform, e.g. from the model input ``(N, M, T, V, C)``.

    Args:
        data (np.ndarray | torch.Tensor): ``(..., T, V, C)`` with the time
            axis at ``time_axis`` followed by joints and channels.
        time_axis (int): Must be ``-3`` (kept explicit for readability).

    Returns:
        Same type as ``data``: ``(..., T)`` bool.
    """
    if time_axis != -3:
        raise ValueError('frame_validity expects (..., T, V, C) data.')
    return (data != 0).any(-1).any(-1)


def gather_time(x: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """``out[b, t] = x[b, index[b, t]]`` for ``x`` ``(B, T, ...)`` and
    ``index`` ``(B, T')``."""
    shape = index.shape + (1, ) * (x.dim() - 2)
    return x.gather(1, index.long().view(shape).expand(index.shape +
                                                        x.shape[2:]))


def neighbour_frames(
        valid: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """For each frame, the last observed frame at or before it and the first
    observed frame at or after it.

    Args:
        valid (torch.Tensor): ``(B, T)`` bool.

    Returns:
        tuple: ``prev``, ``next`` ``(B, T)`` long; ``-1`` / ``T`` where
        there is none on that side.
    """
    # cumsum, scatter and gather instead of cummax / cummin, which ONNX
    # lacks; exact integer arithmetic, the same result
    valid = valid.bool()
    batch, num_frames = valid.shape
    idx = torch.arange(num_frames, device=valid.device).expand(
        batch, num_frames)
    rank = valid.long().cumsum(1)  # observed frames at or before t
    # slot k holds the k-th observed frame (slot 0: none before it, -1;
    # slots past the last one: none after it, T)
    pos = torch.zeros(batch, num_frames + 2, dtype=torch.long,
                      device=valid.device).scatter(
                          1, torch.where(valid, rank, 0),
                          torch.where(valid, idx, 0))
    slot = torch.arange(num_frames + 2, device=valid.device)
    pos = torch.where(slot == 0, -1,
                      torch.where(slot > rank[:, -1:], num_frames, pos))
    prev = pos.gather(1, rank)
    nxt = torch.where(valid, idx, pos.gather(1, rank + 1))
    return prev, nxt


def _clamped_neighbours(valid: torch.Tensor):
    # beyond the observed range, both neighbours are the end frame, which is
    # thereby held constant
    num_frames = valid.shape[1]
    prev, nxt = neighbour_frames(valid)
    prev_c = torch.where(prev >= 0, prev, nxt).clamp(0, num_frames - 1)
    next_c = torch.where(nxt < num_frames, nxt, prev).clamp(0, num_frames - 1)
    return prev_c, next_c


def linear_fill(x: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """Fill missing frames by linear interpolation between observed ones.

    Args:
        x (torch.Tensor): ``(B, T, ...)`` sequences, any values at missing
            frames.
        valid (torch.Tensor): ``(B, T)`` bool, ``True`` where observed.

    Returns:
        torch.Tensor: ``(B, T, ...)``. Observed frames are ``x`` unchanged;
        frames before the first / after the last observed frame repeat it;
        a sequence without any observed frame is returned unchanged.
    """
    valid = valid.bool()
    prev_c, next_c = _clamped_neighbours(valid)
    idx = torch.arange(valid.shape[1], device=x.device).expand_as(prev_c)
    span = (next_c - prev_c).to(x.dtype)
    weight = torch.where(span > 0, (idx - prev_c).to(x.dtype) /
                         span.clamp(min=1), torch.zeros_like(span))
    weight = weight.view(weight.shape + (1, ) * (x.dim() - 2))
    out = gather_time(x, prev_c) * (1 - weight) + \
        gather_time(x, next_c) * weight
    keep = (valid | ~valid.any(1, keepdim=True))
    return torch.where(keep.view(weight.shape), x, out)


def nearest_fill(x: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """Fill each missing frame with a copy of the nearest observed frame
    (the earlier one on a tie). Shapes as :func:`linear_fill`."""
    valid = valid.bool()
    prev_c, next_c = _clamped_neighbours(valid)
    idx = torch.arange(valid.shape[1], device=x.device).expand_as(prev_c)
    source = torch.where((next_c - idx) < (idx - prev_c), next_c, prev_c)
    out = gather_time(x, source)
    keep = (valid | ~valid.any(1, keepdim=True))
    return torch.where(keep.view(keep.shape + (1, ) * (x.dim() - 2)), x, out)


def gap_distances(valid: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """Distances in frames from each frame to the observed frames around it.

    Args:
        valid (torch.Tensor): ``(B, T)`` bool.

    Returns:
        tuple[torch.Tensor]: ``(d_prev, d_next)``, ``(B, T)`` float: the
        distance to the last observed frame at or before ``t`` and to the
        first at or after it; both 0 on observed frames. Where one side has
        no observed frame (a prefix / suffix gap) it takes the other side's
        distance; a sequence without any observed frame gets ``T``.
    """
    num_frames = valid.shape[1]
    prev, nxt = neighbour_frames(valid.bool())
    idx = torch.arange(num_frames, device=valid.device).expand_as(prev)
    d_prev = torch.where(prev >= 0, idx - prev, torch.full_like(idx, -1))
    d_next = torch.where(nxt < num_frames, nxt - idx,
                         torch.full_like(idx, -1))
    d_prev, d_next = (torch.where(d_prev >= 0, d_prev, d_next),
                      torch.where(d_next >= 0, d_next, d_prev))
    none = ~valid.bool().any(1, keepdim=True)
    d_prev = torch.where(none, num_frames, d_prev)
    d_next = torch.where(none, num_frames, d_next)
    return d_prev.float(), d_next.float()


def _akima_slopes(secants: torch.Tensor, count: torch.Tensor) -> torch.Tensor:
    """Akima's slopes at the observed points from the secants between them.

    Args:
        secants (torch.Tensor): ``(B, T - 1, F)``; entry ``j < count - 1`` is
            the secant between observed points ``j`` and ``j + 1``.
        count (torch.Tensor): ``(B,)`` observed points per sequence (>= 3).

    Returns:
        torch.Tensor: ``(B, T, F)`` slopes, entry ``i < count`` belongs to
        observed point ``i``. The secant list is extended by two linear
        extrapolations at each end, as in Akima (1970) and SciPy's
        ``Akima1DInterpolator``.
    """
    batch, num_secants, feats = secants.shape
    first, second = secants[:, :1], secants[:, 1:2]
    last_idx = (count - 2).clamp(min=0).view(batch, 1, 1).expand(-1, 1, feats)
    last = secants.gather(1, last_idx)
    before = secants.gather(1, (last_idx - 1).clamp(min=0))
    # extended[k] = d_{k-2}: two secants before the first, two after the last
    pad = secants.new_zeros(batch, 2, feats)
    ext = torch.cat([3 * first - 2 * second, 2 * first - second, secants, pad],
                    dim=1)
    pos = torch.arange(ext.shape[1], device=secants.device).view(1, -1, 1)
    n = count.view(batch, 1, 1)
    ext = torch.where(pos == n + 1, 2 * last - before, ext)
    ext = torch.where(pos == n + 2, 3 * last - 2 * before, ext)
    ext = torch.where(pos > n + 2, torch.zeros_like(ext), ext)
    d_m2, d_m1 = ext[:, :-3], ext[:, 1:-2]
    d_0, d_p1 = ext[:, 2:-1], ext[:, 3:]
    w_next, w_prev = (d_p1 - d_0).abs(), (d_m1 - d_m2).abs()
    total = w_next + w_prev
    # equal weights (flat stretches on both sides): the mean of the secants
    return torch.where(total > 1e-12 * (d_m1.abs() + d_0.abs() + 1e-30),
                       (w_next * d_m1 + w_prev * d_0) / total.clamp(min=1e-30),
                       (d_m1 + d_0) / 2)


def akima_fill(x: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """Fill missing frames with Akima's piecewise-cubic interpolation.

    A cubic Hermite segment between the observed frames around each gap,
    with Akima's slopes at the observed frames: it follows curved motion
    that :func:`linear_fill` cuts short, with far less overshoot than a
    global cubic spline (which is worse than linear interpolation on sampled
    skeleton clips, whose repeated frames make flat steps). It can still
    leave the range of the observed values, so bounded channels such as
    confidence scores are better filled linearly. Each coordinate and
    channel is interpolated on its own; frames outside the observed range
    hold the end frame, as in :func:`linear_fill`, and sequences with fewer
    than three observed frames fall back to it.

    Shapes as :func:`linear_fill`: ``x`` ``(B, T, ...)``, ``valid``
    ``(B, T)`` bool; observed frames are returned unchanged.
    """
    valid = valid.bool()
    batch, num_frames = valid.shape
    linear = linear_fill(x, valid)
    count = valid.sum(1)
    # no shortcut on the values (all sequences < 3 observed frames): a
    # branch on data does not export; those sequences get `linear` below
    if num_frames < 3:
        return linear
    flat = x.reshape(batch, num_frames, -1)
    # observed frames first, in time order: compact index -> frame (each
    # frame scattered to its place, the stable sort that ONNX lacks)
    rank = valid.long().cumsum(1)
    frame = torch.arange(num_frames, device=x.device).expand(batch, -1)
    place = torch.where(valid, rank - 1, count[:, None] + frame - rank)
    order = torch.zeros_like(place).scatter(1, place, frame)
    times = order.to(flat.dtype)
    values = gather_time(flat, order)
    step = (times[:, 1:] - times[:, :-1]).clamp(min=1)[..., None]
    secants = (values[:, 1:] - values[:, :-1]) / step
    slopes = _akima_slopes(secants, count.clamp(min=3))
    # back to frames: the slope of each observed frame at its time
    slope_at = torch.zeros_like(flat).scatter(
        1, order[..., None].expand_as(slopes), slopes)
    prev, nxt = neighbour_frames(valid)
    inside = (prev >= 0) & (nxt < num_frames) & ~valid & (count >= 3)[:, None]
    prev_c, next_c = prev.clamp(0, num_frames - 1), nxt.clamp(0,
                                                              num_frames - 1)
    span = (next_c - prev_c).clamp(min=1).to(flat.dtype)[..., None]
    s = ((torch.arange(num_frames, device=x.device) - prev_c).to(flat.dtype)
         [..., None] / span)
    h00, h10 = (1 + 2 * s) * (1 - s)**2, s * (1 - s)**2
    h01, h11 = s * s * (3 - 2 * s), s * s * (s - 1)
    cubic = (h00 * gather_time(flat, prev_c) +
             h10 * span * gather_time(slope_at, prev_c) +
             h01 * gather_time(flat, next_c) +
             h11 * span * gather_time(slope_at, next_c)).view(x.shape)
    inside = inside.view(inside.shape + (1, ) * (x.dim() - 2))
    return torch.where(inside, cubic, linear)


FILLS = {'linear': linear_fill, 'nearest': nearest_fill, 'akima': akima_fill}


def shifted_frames(shifts: torch.Tensor, num_frames: int) -> torch.Tensor:
    """Frame indices ``(..., T)`` of sequences moved by ``shifts`` ``(...)``
    frames in time: frame ``t`` takes frame ``t + shift``, the end frames
    repeated."""
    return (torch.arange(num_frames, device=shifts.device) +
            shifts[..., None]).clamp(0, num_frames - 1)


def scale_time(x: torch.Tensor, rate: float) -> torch.Tensor:
    """``x`` ``(N, T, ...)`` played ``rate`` times as fast about its middle
    frame (frame ``t`` takes time ``c + (t - c) * rate``, ``c = (T - 1) /
    2``), linearly interpolated between frames, the end frames held."""
    if rate == 1:
        return x
    num_frames = x.shape[1]
    centre = (num_frames - 1) / 2
    pos = (centre + (torch.arange(num_frames, device=x.device,
                                  dtype=torch.float64) - centre) * rate).clamp(
                                      0, num_frames - 1)
    low = pos.floor().long()
    high = (low + 1).clamp(max=num_frames - 1)
    frac = (pos - low).to(x.dtype).view((1, -1) + (1, ) * (x.dim() - 2))
    return x[:, low] * (1 - frac) + x[:, high] * frac


def mirror_sequences(x: torch.Tensor,
                     flip_index: Sequence[int]) -> torch.Tensor:
    """``x`` ``(..., K, C)`` mirrored: the first coordinate negated and every
    joint swapped with its left/right partner in ``flip_index``."""
    flip = torch.as_tensor(list(flip_index), device=x.device).long()
    if len(flip) != x.shape[-2]:
        raise ValueError(f'flip_index has {len(flip)} entries for '
                         f'{x.shape[-2]} joints.')
    out = x[..., flip, :].clone()
    out[..., 0] = -out[..., 0]
    return out


def _shift_matrices(time_shifts: Sequence[int], num_frames: int,
                    device=None, dtype=None) -> torch.Tensor:
    """``(S, T, T)``: entry ``[s, t, u]`` is 1 where frame ``t`` of a
    sequence moved by ``time_shifts[s]`` (:func:`shifted_frames`) is its
    frame ``u``."""
    source = shifted_frames(
        torch.as_tensor(list(time_shifts), device=device), num_frames)
    return (source[..., None] == torch.arange(num_frames,
                                              device=device)).to(dtype)


class RetrievalBank(NamedTuple):
    """The terms of :func:`retrieval_detail` that depend on the bank alone,
    made once by :func:`prepare_retrieval_bank` and reused across calls
    (they are most of a call's fixed cost on a small batch).

    Attributes:
        sequences (torch.Tensor): ``(R, N, T, K, C)``: the bank at each of the
            ``R`` playback rates (:func:`scale_time`).
        frame_sums (torch.Tensor): ``(R, N, T, C)``: ``sequences`` summed
            over the joints.
        frame_norms (torch.Tensor): ``(R, N, T)``: squared norm of each frame.
        time_scales (tuple[float, ...]): The ``R`` rates.
    """
    sequences: torch.Tensor
    frame_sums: torch.Tensor
    frame_norms: torch.Tensor
    time_scales: Tuple[float, ...]


def prepare_retrieval_bank(bank: torch.Tensor,
                           time_scales: Sequence[float] = (1.0, )
                           ) -> RetrievalBank:
    """The :class:`RetrievalBank` of ``bank`` ``(N, T, K, C)`` at the
    playback rates ``time_scales``. Holds ``R`` copies of the bank."""
    if not time_scales or min(time_scales) <= 0:
        raise ValueError('time_scales must be non-empty and positive, got '
                         f'{time_scales}.')
    with torch.no_grad():  # retrieval is not differentiated
        sequences = torch.stack([scale_time(bank, r) for r in time_scales])
        return RetrievalBank(sequences, sequences.sum(3),
                             (sequences * sequences).sum((3, 4)),
                             tuple(float(r) for r in time_scales))


def _centred_distances(
        x: torch.Tensor,
        weight: torch.Tensor,
        bank: RetrievalBank,
        time_shifts: Sequence[int],
        scale_range: Optional[Tuple[float, float]] = None,
        flip_index: Optional[Sequence[int]] = None
) -> Tuple[torch.Tensor, torch.Tensor]:
    """Squared distances ``(B, N, R, M, S)`` between ``x`` ``(B, T, K, C)``
    and each sequence of the bank at each of its ``R`` rates, as is and
    (``M = 2`` with ``flip_index``) mirrored, moved by each of the ``S``
    ``time_shifts``, over the frames weighted by ``weight`` ``(B, T)``, each
    sequence centred on its mean over those frames and the joints, and the
    bank sequence scaled by the least-squares factor clipped to
    ``scale_range`` (1 when ``None``). Returns the distances and those
    factors ``(B, N, R, M, S)``.

    Computed from sums, without a ``(B, N, T, K, C)`` tensor and without
    moving or mirroring the bank: the query side is moved instead
    (``q . shift(b) = shift^T(q) . b``, ``q . mirror(b) = mirror(q) . b``),
    so all variants take one product with the bank.
    """
    num_rates, num_seqs = bank.sequences.shape[:2]
    sequences = bank.sequences.flatten(0, 1)  # (R*N, T, K, C)
    count = weight.sum(1).clamp(min=1) * x.shape[2]  # (B,)
    q_mean = torch.einsum('bt,btkc->bc', weight, x) / count[:, None]
    q = x - q_mean[:, None, None]
    q_weighted = q * weight[..., None, None]
    q_sq = (q_weighted * q).sum((1, 2, 3))  # (B,)
    moves = _shift_matrices(time_shifts, x.shape[1], x.device, x.dtype)
    # per shift, the weights and weighted query on the bank's frames
    w_moved = torch.einsum('stu,bt->bsu', moves, weight)  # (B, S, T)
    q_moved = torch.einsum('stu,btkc->bsukc', moves, q_weighted)
    b_sum = torch.einsum('bsu,nuc->bnsc', w_moved,
                         bank.frame_sums.flatten(0, 1))
    # with c = centred bank sequence: |c|^2 = |b|^2 - |sum_b|^2 / count
    # (mirroring keeps both) and q.c = q.b (sum(q) = 0 over those frames)
    c_sq = torch.einsum('bsu,nu->bns', w_moved, bank.frame_norms.flatten(
        0, 1)) - (b_sum * b_sum).sum(-1) / count[:, None, None]
    queries = [q_moved]
    if flip_index is not None:
        queries.append(mirror_sequences(q_moved, flip_index))
    # one product for all variants: (B, M, S, T*K*C) x (R*N, T*K*C)
    cross = torch.einsum('bmsf,nf->bnms',
                         torch.stack(queries, 1).flatten(3),
                         sequences.flatten(1))  # (B, R*N, M, S)
    c_sq = c_sq[:, :, None]
    if scale_range is None:
        scale = torch.ones_like(cross)
    else:
        scale = (cross / c_sq.clamp(min=1e-12)).clamp(*scale_range)
    # |q - s c|^2
    dist = q_sq[:, None, None, None] - 2 * scale * cross + \
        scale * scale * c_sq
    return tuple(
        r.view((len(x), num_rates, num_seqs) + r.shape[2:]).transpose(1, 2)
        for r in (dist, scale))


def retrieval_detail(x: torch.Tensor,
                     valid: torch.Tensor,
                     bank: Union[torch.Tensor, RetrievalBank],
                     num_neighbours: int,
                     skip_nearest: int = 0,
                     method: str = 'akima',
                     time_shifts: Sequence[int] = (0, ),
                     weighting: str = 'softmax',
                     gap_ramp: int = 8,
                     flip_index: Optional[Sequence[int]] = None,
                     scale_range: Optional[Tuple[float, float]] = None,
                     time_scales: Sequence[float] = (1.0, )
                     ) -> torch.Tensor:
    """Motion detail of similar clean sequences, to add on top of a fill.

    For each sequence of ``x``, the ``num_neighbours`` bank sequences
    closest to it on its *observed* frames are found: squared distance after
    removing each one's mean position over those frames (i.e. up to a
    translation), each bank sequence at its best shift among
    ``time_shifts`` (clips of the same movement are rarely aligned to the
    frame), optionally also mirrored, scaled and played faster or slower
    (people face either way, stand at any distance from the camera and move
    at their own pace). Each neighbour is masked like
    ``x`` and filled with ``method``; what it loses to the fill
    (``sequence - fill``, zero on the observed frames) is averaged over the
    neighbours. An interpolation cannot bend a long gap the way the body
    moves through it; sequences of the same movement that agree on the
    frames around the gap show how it bends. ``fill(x) +
    retrieval_detail(x)`` is the retrieval-augmented fill.

    Args:
        x (torch.Tensor): ``(B, T, K, C)``, missing frames anything.
        valid (torch.Tensor): ``(B, T)`` bool, observed frames.
        bank (torch.Tensor | RetrievalBank): ``(N, T, K, C)`` clean
            sequences, normalised like ``x``, or their
            :func:`prepare_retrieval_bank` at ``time_scales`` (to reuse it
            across calls).
        num_neighbours (int): Neighbours averaged (``k``).
        skip_nearest (int): Closest bank sequences to leave out first (all
            their variants: shifts, rates, mirror image) -- 1 when ``x`` is itself
            in the bank (training on the split the bank was built from), so
            it does not copy its own ground truth.
        method (str): Key of :data:`FILLS`. Defaults to ``'akima'``.
        time_shifts (Sequence[int]): Shifts in frames tried per bank
            sequence. Defaults to ``(0, )``.
        weighting (str): ``'softmax'``: weights ``exp(-d_i / d_1)`` (``d_1``
            the smallest distance), so clearly closer neighbours count more;
            ``'mean'``: equal weights. Defaults to ``'softmax'``.
        gap_ramp (int): The detail of a missing frame is scaled by
            ``min(1, gap length / gap_ramp)``: short gaps, which the fill
            already gets nearly right, take little of it (the detail of
            other people's motion is noise there). ``1``: no scaling.
            Defaults to 8.
        flip_index (Sequence[int], optional): Left/right partner of each
            joint; each bank sequence is then also tried mirrored
            (:func:`mirror_sequences`), whichever fits better. Defaults to
            None (not mirrored).
        scale_range (tuple[float, float], optional): Each bank sequence is
            scaled about its centre by the least-squares factor to the
            query, clipped to this range, and its detail with it. Defaults
            to None (not scaled).
        time_scales (Sequence[float]): Playback rates tried per bank
            sequence (:func:`scale_time`), each with every shift. Defaults
            to ``(1.0, )``.

    Returns:
        torch.Tensor: ``(B, T, K, C)`` detail, zero on observed frames.
    """
    if num_neighbours < 1 or skip_nearest < 0 or not time_shifts:
        raise ValueError('num_neighbours must be >= 1, skip_nearest >= 0 '
                         'and time_shifts non-empty, got '
                         f'{num_neighbours}, {skip_nearest}, {time_shifts}.')
    if gap_ramp < 1:
        raise ValueError(f'gap_ramp must be >= 1, got {gap_ramp}.')
    if weighting not in ('softmax', 'mean'):
        raise ValueError('weighting must be "softmax" or "mean", got '
                         f'{weighting!r}.')
    if scale_range is not None and not 0 < scale_range[0] <= scale_range[1]:
        raise ValueError('scale_range must be (low, high) with 0 < low <= '
                         f'high, got {scale_range}.')
    if isinstance(bank, RetrievalBank):
        if bank.time_scales != tuple(float(r) for r in time_scales):
            raise ValueError(f'The bank was prepared at rates '
                             f'{bank.time_scales}, not {tuple(time_scales)}.')
        if bank.sequences.dtype != x.dtype:
            bank = RetrievalBank(*(t.to(x.dtype) for t in bank[:3]),
                                 bank.time_scales)
    else:
        bank = prepare_retrieval_bank(bank.to(x.dtype), time_scales)
    num_seqs = bank.sequences.shape[1]
    if num_seqs < num_neighbours + skip_nearest:
        raise ValueError(f'The bank has {num_seqs} sequences; '
                         f'{num_neighbours} neighbours after skipping '
                         f'{skip_nearest} need more.')
    if bank.sequences.shape[2:] != x.shape[1:]:
        raise ValueError(f'Bank sequences {tuple(bank.sequences.shape[2:])} '
                         f'and input {tuple(x.shape[1:])} differ in '
                         '(T, K, C).')
    valid = valid.bool()
    weight = valid.to(x.dtype)
    dist, scale = _centred_distances(
        x, weight, bank, time_shifts, scale_range,
        flip_index)  # (B, N, rates, mirrors, shifts)
    variant_shape = dist.shape[2:]
    # each bank sequence in its best variant
    dist, best = dist.flatten(2).min(-1)
    scale = scale.flatten(2).gather(2, best[..., None])[..., 0]
    dist, index = dist.clamp(min=0).topk(
        num_neighbours + skip_nearest, dim=1, largest=False)
    dist, index = dist[:, skip_nearest:], index[:, skip_nearest:]
    best, scale = best.gather(1, index), scale.gather(1, index)  # (B, k)
    num_mirrors, num_shifts = variant_shape[1:]
    rate_index = best // (num_mirrors * num_shifts)
    mirrored = (best // num_shifts) % num_mirrors
    shift_index = best % num_shifts
    # the chosen neighbours in their variants: rate, mirror, then shift
    neighbours = bank.sequences[rate_index, index]  # (B, k, T, K, C)
    if flip_index is not None:
        neighbours = torch.where(mirrored.bool()[..., None, None, None],
                                 mirror_sequences(neighbours, flip_index),
                                 neighbours)
    shifts = torch.as_tensor(list(time_shifts),
                             device=x.device)[shift_index]  # (B, k)
    batch, num_frames = valid.shape
    neighbours = gather_time(neighbours.flatten(0, 1),
                             shifted_frames(shifts, num_frames).flatten(
                                 0, 1))  # (B*k, T, K, C)
    mask = valid.repeat_interleave(num_neighbours, 0)
    detail = neighbours - FILLS[method](neighbours * mask[..., None, None],
                                        mask)
    detail = detail.view((batch, num_neighbours) + x.shape[1:]) * \
        scale[..., None, None, None]
    if weighting == 'mean':
        detail = detail.mean(1)
    else:
        weights = torch.softmax(-dist / dist[:, :1].clamp(min=1e-12), dim=1)
        detail = torch.einsum('bk,bktjc->btjc', weights, detail)
    d_prev, d_next = gap_distances(valid)
    gap_length = (d_prev + d_next - 1).clamp(min=0).to(x.dtype)
    ramp = (gap_length / gap_ramp).clamp(max=1)
    return detail * ramp[..., None, None]


def bounded_fill(method: str) -> str:
    """The fill to use for bounded channels (confidence scores in [0, 1])
    next to coordinates filled by ``method``: the piecewise cubic can
    overshoot, so ``'akima'`` becomes ``'linear'``; the others stay."""
    return 'linear' if method == 'akima' else method


def fill_missing_frames(data: np.ndarray,
                        valid: np.ndarray,
                        method: str = 'linear',
                        axis: int = 1) -> np.ndarray:
    """numpy front end of :func:`linear_fill` / :func:`nearest_fill` for one
    sequence, used by the pipeline transforms.

    Args:
        data (np.ndarray): Array whose ``axis`` is time, e.g. keypoints
            ``(M, T, V, C)`` or scores ``(M, T, V)``.
        valid (np.ndarray): ``(T,)`` bool, ``True`` where observed.
        method (str): ``'linear'``, ``'nearest'`` or ``'akima'``.
        axis (int): The time axis of ``data``.

    Returns:
        np.ndarray: A filled copy of the same dtype; observed frames are
        unchanged bit for bit. With no observed frame the data is returned
        unchanged.
    """
    if method not in FILLS:
        raise ValueError(f'Unknown fill method {method!r}; expected one of '
                         f'{sorted(FILLS)}.')
    valid = np.asarray(valid, dtype=bool)
    data = np.asarray(data)
    if data.shape[axis] != len(valid):
        raise ValueError(f'The validity mask has {len(valid)} frames but the '
                         f'data has {data.shape[axis]} on axis {axis}.')
    if valid.all() or not valid.any():
        return data.copy()
    # float64 so that interpolated float16/float32 values round only once
    moved = torch.from_numpy(
        np.moveaxis(data, axis, 0).astype(np.float64))[None]
    filled = FILLS[method](moved, torch.from_numpy(valid)[None])[0].numpy()
    out = np.moveaxis(filled, 0, axis).astype(data.dtype)
    np.copyto(out, data, where=np.expand_dims(
        valid, tuple(i for i in range(data.ndim) if i != axis % data.ndim)))
    return out
