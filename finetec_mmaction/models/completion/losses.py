"""Reconstruction losses of module ①, over the missing frames only."""
import torch


def masked_mse(pred: torch.Tensor, target: torch.Tensor,
               frames: torch.Tensor) -> torch.Tensor:
    """MSE over the selected frames only.

    Args:
        pred, target (torch.Tensor): ``(B, T, K, C)``.
        frames (torch.Tensor): ``(B, T)`` bool.
    """
    weight = frames[..., None, None].to(pred.dtype)
    count = weight.sum() * pred.shape[-1] * pred.shape[-2]
    return ((pred - target)**2 * weight).sum() / count.clamp(min=1)


def masked_joint_error(pred: torch.Tensor, target: torch.Tensor,
                       frames: torch.Tensor) -> torch.Tensor:
    """Mean per-joint Euclidean error (MPJPE) over the selected frames.

    Args:
        pred, target (torch.Tensor): ``(B, T, K, C)``.
        frames (torch.Tensor): ``(B, T)`` bool.
    """
    weight = frames[..., None].to(pred.dtype)
    # eps inside the root: the gradient of a norm is undefined at 0
    dist = ((pred - target)**2).sum(-1).add(1e-12).sqrt()
    count = weight.sum() * pred.shape[-2]
    return (dist * weight).sum() / count.clamp(min=1)


RECONSTRUCTION_LOSSES = {'mse': masked_mse, 'mpjpe': masked_joint_error}


def worse_than_base(pred: torch.Tensor, base: torch.Tensor,
                    target: torch.Tensor, frames: torch.Tensor) -> torch.Tensor:
    """Hinge on clips the correction makes worse than the base it corrects:
    the mean over clips of ``max(0, MSE(pred) - MSE(base))``, each over the
    clip's selected frames (the base carries no gradient).

    Args:
        pred, base, target (torch.Tensor): ``(B, T, K, C)``.
        frames (torch.Tensor): ``(B, T)`` bool.
    """
    weight = frames[..., None, None].to(pred.dtype)
    count = (weight.sum((1, 2, 3)) * pred.shape[-1] * pred.shape[-2]).clamp(
        min=1)

    def per_clip(x):
        return ((x - target)**2 * weight).sum((1, 2, 3)) / count

    return (per_clip(pred) - per_clip(base.detach())).clamp(min=0).mean()
