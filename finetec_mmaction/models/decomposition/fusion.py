"""Fusion of the decomposed variants (``S_base``, ``S_dyna``, ``S_stat``)
into ``S_pred`` (SPEC §②).

Both fusions act per joint and frame on the ``C`` input channels and are
residual on ``S_base`` with a zero-initialised output layer, so an untrained
fusion passes ``S_base`` through unchanged.
"""
from typing import Dict, List, Optional, Sequence, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModule

from mmaction.registry import MODELS


def _check_variants(variants: Sequence[torch.Tensor], num_variants: int):
    if len(variants) != num_variants:
        raise ValueError(f'Expected {num_variants} variants (base first), got '
                         f'{len(variants)}.')
    shape = variants[0].shape
    for v in variants[1:]:
        if v.shape != shape:
            raise ValueError(f'All variants need one shape; got {shape} and '
                             f'{v.shape}.')


@MODELS.register_module()
class CrossAttentionFusion(BaseModule):
    """Light cross-attention over the variants of every joint and frame.

    ``S_base`` queries the three variants (keys/values, each tagged with a
    learned variant embedding); the attended context is projected back to
    the input channels and added to ``S_base``. The default of SPEC §②
    (cross-attention beat an MLP in the paper).

    Args:
        in_channels (int): Channels ``C`` of each variant (e.g. 3 for
            x, y, score).
        embed_dims (int): Attention width. Defaults to 32.
        num_heads (int): Attention heads. Defaults to 4.
        num_variants (int): Number of variants, base first. Defaults to 3.
        dropout (float): Dropout on the attention weights. Defaults to 0.
        init_cfg (dict or list[dict], optional): Initialization config.
    """

    def __init__(self,
                 in_channels: int,
                 embed_dims: int = 32,
                 num_heads: int = 4,
                 num_variants: int = 3,
                 dropout: float = 0.,
                 init_cfg: Optional[Union[Dict, List[Dict]]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if embed_dims % num_heads:
            raise ValueError(f'embed_dims ({embed_dims}) must be divisible '
                             f'by num_heads ({num_heads}).')
        self.in_channels = in_channels
        self.embed_dims = embed_dims
        self.num_heads = num_heads
        self.num_variants = num_variants
        self.embed = nn.Linear(in_channels, embed_dims)
        self.variant_embed = nn.Parameter(torch.zeros(num_variants,
                                                      embed_dims))
        nn.init.normal_(self.variant_embed, std=0.02)
        self.q = nn.Linear(embed_dims, embed_dims)
        self.kv = nn.Linear(embed_dims, 2 * embed_dims)
        self.drop = nn.Dropout(dropout)
        self.out = nn.Linear(embed_dims, in_channels)
        self._zero_output()

    def _zero_output(self) -> None:
        # identity at start: S_pred = S_base
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def init_weights(self) -> None:
        super().init_weights()
        self._zero_output()

    def forward(self, variants: Sequence[torch.Tensor]) -> torch.Tensor:
        """Fuse the variants.

        Args:
            variants (Sequence[torch.Tensor]): ``num_variants`` tensors
                ``(..., C)``, e.g. ``(B, M, T, V, C)``, ``S_base`` first.

        Returns:
            torch.Tensor: ``S_pred``, ``(..., C)``.
        """
        _check_variants(variants, self.num_variants)
        base = variants[0]
        x = torch.stack(variants, -2)  # (..., K, C)
        lead = x.shape[:-2]
        x = x.reshape(-1, self.num_variants, self.in_channels)
        e = self.embed(x) + self.variant_embed  # (N, K, D)
        n, k, d = e.shape
        h, dh = self.num_heads, d // self.num_heads
        q = self.q(e[:, 0]).view(n, h, 1, dh)
        key, value = self.kv(e).view(n, k, 2, h, dh).permute(2, 0, 3, 1, 4)
        attn = (q @ key.transpose(-1, -2)) * dh**-0.5  # (N, h, 1, K)
        attn = self.drop(attn.softmax(-1))
        ctx = (attn @ value).reshape(n, d)
        return base + self.out(ctx).view(lead + (self.in_channels, ))


@MODELS.register_module()
class MLPFusion(BaseModule):
    """MLP over the concatenated variants of every joint and frame (the
    paper's weaker alternative), residual on ``S_base``.

    Args:
        in_channels (int): Channels ``C`` of each variant.
        hidden_channels (int): Hidden width. Defaults to 64.
        num_variants (int): Number of variants, base first. Defaults to 3.
        init_cfg (dict or list[dict], optional): Initialization config.
    """

    def __init__(self,
                 in_channels: int,
                 hidden_channels: int = 64,
                 num_variants: int = 3,
                 init_cfg: Optional[Union[Dict, List[Dict]]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.in_channels = in_channels
        self.num_variants = num_variants
        self.mlp = nn.Sequential(
            nn.Linear(num_variants * in_channels, hidden_channels),
            nn.ReLU(inplace=True), nn.Linear(hidden_channels, in_channels))
        self._zero_output()

    def _zero_output(self) -> None:
        # identity at start: S_pred = S_base
        nn.init.zeros_(self.mlp[-1].weight)
        nn.init.zeros_(self.mlp[-1].bias)

    def init_weights(self) -> None:
        super().init_weights()
        self._zero_output()

    def forward(self, variants: Sequence[torch.Tensor]) -> torch.Tensor:
        """``variants``: ``num_variants`` tensors ``(..., C)``, base first;
        returns ``S_pred`` ``(..., C)``."""
        _check_variants(variants, self.num_variants)
        return variants[0] + self.mlp(torch.cat(list(variants), -1))
