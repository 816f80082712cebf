"""Retrieval restoration: the motion detail of similar clean sequences.

An interpolation (:mod:`finetec_mmaction.core.fill`) cannot bend a long
gap the way the body moves through it; bank sequences that agree with a
clip on its observed frames show how it bends. :func:`retrieval_detail`
finds them (all time shifts, playback rates, mirror images and scales in
one product over the bank, :class:`RetrievalBank` holding the bank-only
terms) and returns what each loses to the fill, averaged; its two steps are
:func:`find_neighbours` and :func:`neighbour_detail`.
"""
import warnings
from typing import NamedTuple, Optional, Sequence, Tuple, Union

import torch

from .fill import FILLS, gap_distances, gather_time


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


def observed_centre(x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """``(B, ..., C)``: the mean of ``x`` ``(B, ..., T, K, C)`` over the
    frames weighted by ``weight`` ``(B, T)`` and over the joints (the
    translation the retrieval removes before comparing motions)."""
    count = weight.sum(1).clamp(min=1) * x.shape[-2]
    centre = torch.einsum('bt,b...tkc->b...c', weight, x)
    return centre / count.view((-1, ) + (1, ) * (centre.dim() - 1))


def _centred_distances(
        x: torch.Tensor,
        weight: torch.Tensor,
        bank: RetrievalBank,
        time_shifts: Sequence[int],
        scale_range: Optional[Tuple[float, float]] = None,
        flip_index: Optional[Sequence[int]] = None
) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Squared distances ``(B, N, R, M, S)`` between ``x`` ``(B, T, K, C)``
    and each sequence of the bank at each of its ``R`` rates, as is and
    (``M = 2`` with ``flip_index``) mirrored, moved by each of the ``S``
    ``time_shifts``, over the frames weighted by ``weight`` ``(B, T)``, each
    sequence centred on its mean over those frames and the joints, and the
    bank sequence scaled by the least-squares factor clipped to
    ``scale_range`` (1 when ``None``). Returns the distances, those
    factors ``(B, N, R, M, S)`` and the squared norm ``(B,)`` of the centred
    query over those frames.

    Computed from sums, without a ``(B, N, T, K, C)`` tensor and without
    moving or mirroring the bank: the query side is moved instead
    (``q . shift(b) = shift^T(q) . b``, ``q . mirror(b) = mirror(q) . b``),
    so all variants take one product with the bank.
    """
    num_rates, num_seqs = bank.sequences.shape[:2]
    sequences = bank.sequences.flatten(0, 1)  # (R*N, T, K, C)
    count = weight.sum(1).clamp(min=1) * x.shape[2]  # (B,)
    q = x - observed_centre(x, weight)[:, None, None]
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
    dist, scale = (
        r.view((len(x), num_rates, num_seqs) + r.shape[2:]).transpose(1, 2)
        for r in (dist, scale))
    return dist, scale, q_sq


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
                     time_scales: Sequence[float] = (1.0, ),
                     return_fit: bool = False
                     ) -> Union[torch.Tensor, Tuple[torch.Tensor,
                                                    torch.Tensor]]:
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
        num_neighbours (int): Neighbours averaged (``k``); at most the
            bank's sequences less ``skip_nearest`` (a warning says when a
            small bank lowers it).
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
        return_fit (bool): Also return how well the closest neighbour fits
            each sequence. Defaults to False.

    Returns:
        torch.Tensor | tuple: ``(B, T, K, C)`` detail, zero on observed
        frames; with ``return_fit`` also the fit ``(B,)``: the closest
        neighbour's squared distance over the observed frames divided by
        the squared norm of the centred query there -- the share of the
        clip's observed motion the bank does not explain (0 = a perfect
        match), the same in any coordinate system.
    """
    if gap_ramp < 1:  # before the search, which is the costly part
        raise ValueError(f'gap_ramp must be >= 1, got {gap_ramp}.')
    neighbours = find_neighbours(x, valid, bank, num_neighbours, skip_nearest,
                                 time_shifts, weighting, flip_index,
                                 scale_range, time_scales)
    detail = neighbour_detail(neighbours,
                              neighbour_details(neighbours, valid, method),
                              valid, gap_ramp)
    if return_fit:
        return detail, neighbours.fit
    return detail


class Neighbours(NamedTuple):
    """What :func:`find_neighbours` retrieves for ``B`` clips.

    Attributes:
        sequences (torch.Tensor): ``(B, k, T, K, C)`` the neighbours, each in
            its best variant (rate, mirror image, shift), unscaled.
        weights (torch.Tensor): ``(B, k)`` their weights, summing to 1.
        scale (torch.Tensor): ``(B, k)`` their least-squares scale to the
            clip (1 without ``scale_range``).
        fit (torch.Tensor): ``(B,)`` the closest one's squared distance over
            the observed frames over the squared norm of the centred clip
            there: the share of the clip's observed motion the bank does not
            explain (0 = a perfect match), the same in any coordinate system.
    """
    sequences: torch.Tensor
    weights: torch.Tensor
    scale: torch.Tensor
    fit: torch.Tensor


def find_neighbours(x: torch.Tensor,
                    valid: torch.Tensor,
                    bank: Union[torch.Tensor, RetrievalBank],
                    num_neighbours: int,
                    skip_nearest: int = 0,
                    time_shifts: Sequence[int] = (0, ),
                    weighting: str = 'softmax',
                    flip_index: Optional[Sequence[int]] = None,
                    scale_range: Optional[Tuple[float, float]] = None,
                    time_scales: Sequence[float] = (1.0, )) -> Neighbours:
    """The ``num_neighbours`` bank sequences closest to each clip on its
    observed frames (arguments as :func:`retrieval_detail`'s).

    Returns:
        Neighbours
    """
    if num_neighbours < 1 or skip_nearest < 0 or not time_shifts:
        raise ValueError('num_neighbours must be >= 1, skip_nearest >= 0 '
                         'and time_shifts non-empty, got '
                         f'{num_neighbours}, {skip_nearest}, {time_shifts}.')
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
    if num_seqs <= skip_nearest:
        raise ValueError(f'The bank has {num_seqs} sequences; skipping '
                         f'{skip_nearest} leaves none to retrieve.')
    if num_seqs < num_neighbours + skip_nearest:
        # a small dataset: average what the bank has rather than fail
        warnings.warn(f'The bank has {num_seqs} sequences: retrieving '
                      f'{num_seqs - skip_nearest} neighbours, not '
                      f'{num_neighbours}.')
        num_neighbours = num_seqs - skip_nearest
    if bank.sequences.shape[2:] != x.shape[1:]:
        raise ValueError(f'Bank sequences {tuple(bank.sequences.shape[2:])} '
                         f'and input {tuple(x.shape[1:])} differ in '
                         '(T, K, C).')
    valid = valid.bool()
    weight = valid.to(x.dtype)
    dist, scale, q_sq = _centred_distances(
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
    if weighting == 'mean':
        weights = torch.full_like(dist, 1 / num_neighbours)
    else:
        weights = torch.softmax(-dist / dist[:, :1].clamp(min=1e-12), dim=1)
    return Neighbours(neighbours.view((batch, num_neighbours) + x.shape[1:]),
                      weights, scale, dist[:, 0] / q_sq.clamp(min=1e-12))


def neighbour_details(neighbours: Neighbours, valid: torch.Tensor,
                      method: str = 'akima') -> torch.Tensor:
    """``(B, k, T, K, C)``: what each neighbour loses to ``method`` masked
    like its clip (``valid`` ``(B, T)``), scaled to the clip; zero on the
    observed frames."""
    seqs = neighbours.sequences
    num_neighbours = seqs.shape[1]
    flat = seqs.flatten(0, 1)
    mask = valid.bool().repeat_interleave(num_neighbours, 0)
    lost = flat - FILLS[method](flat * mask[..., None, None], mask)
    return lost.view(seqs.shape) * neighbours.scale[..., None, None, None]


def neighbour_detail(neighbours: Neighbours, details: torch.Tensor,
                     valid: torch.Tensor, gap_ramp: int = 8) -> torch.Tensor:
    """``(B, T, K, C)``: the neighbours' weighted mean of ``details``
    (:func:`neighbour_details`), ramped in over ``gap_ramp`` frames of gap
    length as :func:`retrieval_detail` says."""
    if gap_ramp < 1:
        raise ValueError(f'gap_ramp must be >= 1, got {gap_ramp}.')
    detail = torch.einsum('bk,bktjc->btjc', neighbours.weights, details)
    d_prev, d_next = gap_distances(valid.bool())
    gap_length = (d_prev + d_next - 1).clamp(min=0).to(detail.dtype)
    ramp = (gap_length / gap_ramp).clamp(max=1)
    return detail * ramp[..., None, None]
