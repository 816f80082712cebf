"""Differentiable-graph linear interpolation of missing frames (torch).

The same rule as :func:`finetec_mmaction.core.fill.fill_missing_frames`
(``method='linear'``, ends held constant), vectorised over a batch with a
different validity mask per sequence so that it can run inside the model on
any device. The completion network predicts a residual over it.
"""
import torch


def linear_fill(x: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """Fill missing frames by linear interpolation between observed ones.

    Args:
        x (torch.Tensor): ``(B, T, K, C)`` sequences, any values at missing
            frames.
        valid (torch.Tensor): ``(B, T)`` bool, ``True`` where observed.

    Returns:
        torch.Tensor: ``(B, T, K, C)``. Observed frames are ``x`` unchanged;
        frames before the first / after the last observed frame repeat it;
        a sequence without any observed frame is returned unchanged.
    """
    batch, num_frames = valid.shape
    idx = torch.arange(num_frames, device=x.device).expand(batch, num_frames)
    # last observed frame at or before t, first observed at or after t
    prev = torch.where(valid, idx, torch.full_like(idx, -1)).cummax(1).values
    nxt = torch.where(valid, idx, torch.full_like(idx, num_frames))
    nxt = nxt.flip(1).cummin(1).values.flip(1)
    prev_c = torch.where(prev >= 0, prev, nxt).clamp(0, num_frames - 1)
    next_c = torch.where(nxt < num_frames, nxt, prev).clamp(0, num_frames - 1)
    span = (next_c - prev_c).to(x.dtype)
    weight = torch.where(span > 0, (idx - prev_c).to(x.dtype) / span.clamp(min=1),
                         torch.zeros_like(span))
    shape = (batch, num_frames) + (1, ) * (x.dim() - 2)
    gather = (-1, -1) + x.shape[2:]
    x_prev = x.gather(1, prev_c.view(shape).expand(gather))
    x_next = x.gather(1, next_c.view(shape).expand(gather))
    weight = weight.view(shape)
    out = x_prev * (1 - weight) + x_next * weight
    keep = (valid | ~valid.any(1, keepdim=True)).view(shape)
    return torch.where(keep, x, out)



def gap_distances(valid: torch.Tensor):
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
    batch, num_frames = valid.shape
    idx = torch.arange(num_frames, device=valid.device).expand(
        batch, num_frames)
    prev = torch.where(valid, idx, torch.full_like(idx, -1)).cummax(1).values
    nxt = torch.where(valid, idx, torch.full_like(idx, num_frames))
    nxt = nxt.flip(1).cummin(1).values.flip(1)
    d_prev = torch.where(prev >= 0, idx - prev, torch.full_like(idx, -1))
    d_next = torch.where(nxt < num_frames, nxt - idx,
                         torch.full_like(idx, -1))
    d_prev, d_next = (torch.where(d_prev >= 0, d_prev, d_next),
                      torch.where(d_next >= 0, d_next, d_prev))
    none = ~valid.any(1, keepdim=True)
    d_prev = torch.where(none, num_frames, d_prev)
    d_next = torch.where(none, num_frames, d_next)
    return d_prev.float(), d_next.float()
