"""Evidence from a clip's retrieved neighbours, for the safe restoration
(:mod:`finetec_mmaction.core.self_validation`): all three are opt-in
trade-offs, measured in docs/experiments/safe_restoration.md.

* :func:`neighbour_preference`: which of linear interpolation and Akima's
  spline restores the clip's closest bank sequences better, masked like the
  clip -- evidence where the clip's own frames cannot tell (one long gap
  leaves nothing to hide).
* :func:`detail_agreement`: how much the neighbours agree, beyond chance,
  on what the fill misses -- neighbours of the same movement bend a gap
  alike, neighbours that only happen to fit the observed frames do not.
* :func:`cross_prediction`: whether the bank's match on one half of the
  clip's observed frames carries over to the other half -- a test of the
  long-range motion a gap needs, which a fit over all observed frames
  (easy for any sequence when they are few) does not make.

All are ratios or z-scores, so nothing depends on the coordinate system.
"""
from typing import Optional

import torch

from .fill import akima_fill, linear_fill, nearest_fill
from .retrieval import (Neighbours, RetrievalBank, find_neighbours,
                        observed_centre)
from .self_validation import frame_errors


def neighbour_preference(neighbours: Neighbours,
                         valid: torch.Tensor,
                         details: Optional[torch.Tensor] = None,
                         method: str = 'akima') -> torch.Tensor:
    """Self-validation of Akima's spline against linear interpolation on
    the clip's closest bank sequences, masked like the clip: the weighted
    paired z-score over the ``k`` neighbours of their errors on the missing
    frames (linear minus Akima).

    Where the clip's own frames cannot tell (one long gap leaves nothing to
    hide), sequences that move like it on its observed frames show how
    such a gap bends.

    Args:
        neighbours (Neighbours): ``(B, k, T, K, C)`` and their weights.
        valid (torch.Tensor): ``(B, T)`` bool, the clips' masks.
        details (torch.Tensor, optional): ``(B, k, T, K, C)``
            :func:`~finetec_mmaction.core.retrieval.neighbour_details` with
            ``method``: what that fill already lost, so it is not made
            again.
        method (str): ``'akima'`` or ``'linear'``, the fill of ``details``.

    Returns:
        torch.Tensor: ``(B,)`` z, positive where Akima restores the
        neighbours better, negative where linear does.
    """
    seqs = neighbours.sequences
    batch, num_neighbours = seqs.shape[:2]
    flat = seqs.flatten(0, 1)
    mask = valid.bool().repeat_interleave(num_neighbours, 0)
    x = flat * mask[..., None, None].to(flat.dtype)
    missing = (~mask).to(flat.dtype)
    scale = neighbours.scale.flatten()[:, None]
    # each fill's per-frame error on the neighbours, scaled to the clip
    errors = {}
    if details is not None:
        # the details are the neighbours' losses to `method`, already scaled
        errors[method] = frame_errors(details.flatten(0, 1),
                                      torch.zeros_like(flat))
    for name, fill in (('linear', linear_fill), ('akima', akima_fill)):
        if name not in errors:
            errors[name] = frame_errors(fill(x, mask), flat) * scale
    diff = ((errors['linear'] - errors['akima']) * missing).sum(1)
    diff = diff.view(batch, num_neighbours)
    w = neighbours.weights
    mean = (w * diff).sum(1)
    spread = (w * (diff - mean[:, None]).square()).sum(1).sqrt()
    effective = 1 / w.square().sum(1)
    z = mean * effective.sqrt() / spread.clamp(min=1e-12)
    # one neighbour has no spread to weigh its difference against
    return z if num_neighbours > 1 else torch.zeros_like(z)


def detail_agreement(details: torch.Tensor,
                     weights: torch.Tensor) -> torch.Tensor:
    """How much the neighbours agree on the detail, against chance.

    ``|sum_k w_k d_k|^2 / sum_k w_k |d_k|^2`` times the effective number of
    neighbours ``1 / sum_k w_k^2``: about 1 where their details are
    unrelated (the mean is noise), up to that number where they all agree.
    Neighbours of the same movement bend a gap alike; neighbours of other
    movements, people or views that only happen to fit the observed
    frames do not.

    Args:
        details (torch.Tensor): ``(B, k, T, K, C)``
            :func:`~finetec_mmaction.core.retrieval.neighbour_details`.
        weights (torch.Tensor): ``(B, k)``, summing to 1.

    Returns:
        torch.Tensor: ``(B,)``, 0 where no neighbour has any detail.
    """
    mean = torch.einsum('bk,bktjc->btjc', weights, details)
    energy = torch.einsum('bk,bk->b', weights, details.square().sum(
        (2, 3, 4)))
    effective = 1 / weights.square().sum(1)
    return mean.square().sum((1, 2, 3)) / energy.clamp(min=1e-12) * effective


def observed_halves(valid: torch.Tensor):
    """The first and second half of each clip's observed frames
    (``valid`` ``(B, T)``): two ``(B, T)`` bool masks; the first takes the
    middle frame of an odd count."""
    valid = valid.bool()
    rank = valid.long().cumsum(1)
    first = valid & (rank <= (valid.sum(1, keepdim=True) + 1) // 2)
    return first, valid & ~first


def cross_prediction(x: torch.Tensor, valid: torch.Tensor,
                     bank: RetrievalBank, skip_nearest: int = 0,
                     **search) -> torch.Tensor:
    """Two-fold temporal cross-validation of the retrieval.

    The neighbours found on one half of the clip's observed frames
    (:func:`observed_halves`; :func:`find_neighbours` with ``search``),
    placed on that half (its mean, their scale), predict the other half;
    their error there is divided by that of holding the nearest frame of
    the first half. The two directions are combined by their geometric
    mean. Neighbours of the same movement carry the clip's motion across;
    sequences that only happen to fit part of it do no better than
    holding still (about 1).

    Args:
        x (torch.Tensor): ``(B, T, K, C)`` coordinates, missing frames any.
        valid (torch.Tensor): ``(B, T)`` bool.
        bank (RetrievalBank): The prepared bank.
        skip_nearest (int): Leave out that many nearest sequences (1 when
            the clips are in the bank).

    Returns:
        torch.Tensor: ``(B,)`` the error ratio; ``nan`` for a clip with
        fewer than two observed frames.
    """
    halves = observed_halves(valid)
    ratios = []
    for source, target in (halves, halves[::-1]):
        weight = source.to(x.dtype)
        neighbours = find_neighbours(x * weight[..., None, None], source,
                                     bank, skip_nearest=skip_nearest,
                                     **search)
        seqs = neighbours.sequences
        own = observed_centre(seqs, weight)  # (B, k, C)
        placed = neighbours.scale[..., None, None, None] * (
            seqs - own[:, :, None, None]) + observed_centre(
                x, weight)[:, None, None, None]
        pred = torch.einsum('bn,bntkc->btkc', neighbours.weights, placed)
        held = nearest_fill(x * weight[..., None, None], source)
        target = target.to(x.dtype)
        ratios.append((frame_errors(pred, x) * target).sum(1) /
                      (frame_errors(held, x) * target).sum(1).clamp(
                          min=1e-12))
    ratio = (ratios[0] * ratios[1]).sqrt()
    both = halves[0].any(1) & halves[1].any(1)
    return torch.where(both, ratio, torch.full_like(ratio, float('nan')))
