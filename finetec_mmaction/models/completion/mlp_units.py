"""The S and T units of module ① (siMLPe-style MLPs) and the low-pass
projection of its correction."""
import numpy as np
import torch
import torch.nn as nn


class SpatialMLP(nn.Module):
    """S unit: mixes all joints and channels of one frame.

    ``(B·T) × (K·H)`` → Linear → ReLU → LayerNorm over ``K·H``, plus a
    residual.

    Args:
        num_joints (int): ``K``.
        hidden_channels (int): ``H``, features per joint.
    """

    def __init__(self, num_joints: int, hidden_channels: int) -> None:
        super().__init__()
        dim = num_joints * hidden_channels
        self.fc = nn.Linear(dim, dim)
        self.relu = nn.ReLU()
        self.norm = nn.LayerNorm(dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, T, K, H)`` → ``(B, T, K, H)``."""
        y = self.norm(self.relu(self.fc(x.flatten(2))))
        return x + y.view_as(x)


class TemporalMLP(nn.Module):
    """T unit: mixes the frames of each joint feature.

    ``(B·K·H) × T`` → Linear → ReLU, then LayerNorm over the ``K·H``
    features of each frame (siMLPe's spatial normalisation: normalising a
    feature over time would blow up near-constant signals into jitter),
    plus a residual.

    Args:
        clip_len (int): ``T``.
        num_joints (int): ``K``.
        hidden_channels (int): ``H``.
    """

    def __init__(self, clip_len: int, num_joints: int,
                 hidden_channels: int) -> None:
        super().__init__()
        self.fc = nn.Linear(clip_len, clip_len)
        self.relu = nn.ReLU()
        self.norm = nn.LayerNorm(num_joints * hidden_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, T, K, H)`` → ``(B, T, K, H)``."""
        y = self.relu(self.fc(x.permute(0, 2, 3, 1))).permute(0, 3, 1, 2)
        return x + self.norm(y.flatten(2)).view_as(x)


def dct_lowpass(num_frames: int, num_freqs: int) -> torch.Tensor:
    """``(T, T)`` projection onto the ``num_freqs`` lowest DCT-II bases."""
    t = torch.arange(num_frames, dtype=torch.float64)
    k = torch.arange(num_freqs, dtype=torch.float64)[:, None]
    basis = torch.cos(np.pi * (t + 0.5) * k / num_frames)  # (F, T)
    basis = basis / basis.norm(dim=1, keepdim=True)  # orthonormal rows
    return (basis.T @ basis).float()
