"""Physics-driven acceleration (SPEC §③).

Lagrangian dynamics ``M(q) q̈ + C(q, q̇) q̇ + g(q) = τ`` give a learned
acceleration ``q̈ = M⁻¹ τ − C q̇ − g``; the data give the finite difference
``â``; a learned gate fuses the two per stream, and the streams (``S_base``,
``S_dyna``, ``S_stat``) are fused again into ``a_pred``.

Use with FineTec::

    a_pred, aux = neck([s_base, s_dyna, s_stat], return_aux=True)
    losses = neck.loss(aux)                       # {'loss_acc': λ L_Ac}
    feat = backbone(s_pred, a_pred)               # FineTecGCN

or alone in front of a stock ST-GCN++ (``in_channels = C + num_coords``)::

    acc = neck(x)                                 # (N, M, T, V, num_coords)
    feat = stgcn(torch.cat([x, acc], -1))
"""
from typing import Dict, List, Optional, Sequence, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule

from mmaction.registry import MODELS
from ...core.fill import frame_validity
from ...core.kinematics import (finite_difference_acceleration,
                                finite_difference_velocity)

MINV_TYPES = ('full', 'cholesky', 'lowrank')


@MODELS.register_module()
class PhysicsAccelerationNeck(BaseModule):
    """Physics-driven acceleration of one or several skeleton streams.

    Network ``E`` (shared by the streams) reads, for every frame ``t``, the
    local state ``[q_t, q̇_t]`` (positions and backward-difference
    velocities, ``D = num_joints * num_coords`` each) and a global state
    (the same features averaged over the observed frames of the sequence),
    and predicts ``M⁻¹`` (``D × D``, symmetric), ``τ``, ``C q̇`` and ``g``.
    Then ``q̈ = M⁻¹ τ − C q̇ − g``, the data branch is
    ``â_t = S_{t+1} − 2 S_t + S_{t−1}`` (replicate-padded ends), each
    stream ``α`` fuses ``a_α = γ_α ⊙ â_α + (1 − γ_α) ⊙ q̈_α`` with a learned
    element-wise gate ``γ_α = σ(W_α [â_α, q̈_α])``, and the streams are
    fused with per-frame softmax weights into ``a_pred``. Frames missing in
    the first stream (all zero) get zero acceleration and no loss.

    ``M⁻¹`` parameterisations (``minv_type``):

    - ``'full'`` (default, SPEC): ``D(D+1)/2`` outputs fill the upper
      triangle, mirrored to the lower; diagonal through softplus.
    - ``'cholesky'``: the triangle is ``U`` (softplus diagonal) and
      ``M⁻¹ = Uᵀ U`` -- symmetric positive definite.
    - ``'lowrank'``: ``M⁻¹ = diag(softplus(d)) + P Pᵀ``, ``P`` of rank
      ``minv_rank`` -- SPD and ``D (1 + r)`` outputs instead of
      ``D(D+1)/2`` (e.g. NTU 3D, ``D = 75``: 675 vs 2850 at ``r = 8``),
      never forming the matrix.

    Args:
        num_joints (int): ``V``. Defaults to 17.
        num_coords (int): Coordinate channels read from the input (the
            first ones; a score channel is ignored). Defaults to 2.
        hidden_channels (int): Width of ``E``. Defaults to 128.
        num_streams (int): Streams fused into ``a_pred``. Defaults to 3.
        minv_type (str): ``'full'``, ``'cholesky'`` or ``'lowrank'``.
        minv_rank (int): Rank of ``'lowrank'``. Defaults to 8.
        loss_weight (float): ``λ`` of ``L = L_CE + λ L_Ac``. Defaults to 0.1.
        init_cfg (dict or list[dict], optional): Initialization config.
    """

    def __init__(self,
                 num_joints: int = 17,
                 num_coords: int = 2,
                 hidden_channels: int = 128,
                 num_streams: int = 3,
                 minv_type: str = 'full',
                 minv_rank: int = 8,
                 loss_weight: float = 0.1,
                 init_cfg: Optional[Union[Dict, List[Dict]]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if minv_type not in MINV_TYPES:
            raise ValueError(f'minv_type must be one of {MINV_TYPES}, got '
                             f'{minv_type!r}.')
        self.num_joints = num_joints
        self.num_coords = num_coords
        self.num_streams = num_streams
        self.minv_type = minv_type
        self.minv_rank = minv_rank
        self.loss_weight = loss_weight
        D = self.state_dims = num_joints * num_coords
        h = hidden_channels

        # E: local (frame t) and global (sequence) state -> dynamics terms
        self.in_norm = nn.BatchNorm1d(2 * D)
        self.local_fc = nn.Linear(2 * D, h)
        self.global_fc = nn.Linear(2 * D, h)
        self.trunk = nn.Sequential(
            nn.ReLU(inplace=True), nn.Linear(2 * h, h), nn.ReLU(inplace=True))
        if minv_type == 'lowrank':
            num_minv = D * (1 + minv_rank)
        else:
            num_minv = D * (D + 1) // 2
            self.register_buffer(
                'triu_index', torch.triu_indices(D, D), persistent=False)
        self.minv_head = nn.Linear(h, num_minv)
        self.force_head = nn.Linear(h, 3 * D)  # tau, C q_dot, g

        # fusion: data vs physics per stream, then across streams
        self.gates = nn.ModuleList(
            [nn.Linear(2 * D, D) for _ in range(num_streams)])
        self.stream_fusion = nn.Linear(num_streams * D, num_streams)
        # E predicts in units of the data's acceleration scale (a running
        # RMS of the finite differences). Accelerations are ~1e-2 in
        # normalised coordinates: predicting them raw lets the 1/sigma of
        # the backbone's input BatchNorm amplify the classification gradient
        # into the neck until L_Ac diverges at the stock learning rate.
        self.register_buffer('acc_scale', torch.zeros(()))
        self.scale_momentum = 0.01
        self._init_heads()

    def _init_heads(self) -> None:
        # start from q_ddot ~ 0 (accelerations are ~1e-2 in normalised
        # units), gamma = 0.5 and equal stream weights
        nn.init.normal_(self.force_head.weight, std=1e-3)
        nn.init.zeros_(self.force_head.bias)
        for gate in self.gates:
            nn.init.zeros_(gate.bias)
        nn.init.zeros_(self.stream_fusion.weight)
        nn.init.zeros_(self.stream_fusion.bias)

    def init_weights(self) -> None:
        super().init_weights()
        self._init_heads()

    # ------------------------------------------------------------------
    def _split(self, positions: torch.Tensor):
        if positions.shape[-2] != self.num_joints or \
                positions.shape[-1] < self.num_coords:
            raise ValueError(
                f'Expected (..., T, {self.num_joints}, >= {self.num_coords})'
                f' positions, got {tuple(positions.shape)}.')
        return positions[..., :self.num_coords]

    def _minv_times(self, raw: torch.Tensor, tau: torch.Tensor,
                    return_minv: bool):
        """``M⁻¹ τ`` for ``raw`` ``(N, num_minv)``, ``tau`` ``(N, D)``;
        also the dense ``(N, D, D)`` ``M⁻¹`` if asked."""
        D = self.state_dims
        if self.minv_type == 'lowrank':
            diag = F.softplus(raw[:, :D])
            P = raw[:, D:].view(-1, D, self.minv_rank)
            low_rank = P @ (P.transpose(1, 2) @ tau[..., None])
            out = diag * tau + low_rank[..., 0]
            if not return_minv:
                return out, None
            minv = torch.diag_embed(diag) + P @ P.transpose(1, 2)
            return out, 0.5 * (minv + minv.transpose(1, 2))
        tri = raw.new_zeros(raw.shape[0], D, D)
        tri[:, self.triu_index[0], self.triu_index[1]] = raw
        diag = F.softplus(tri.diagonal(dim1=1, dim2=2))
        upper = tri.triu(1)
        if self.minv_type == 'full':
            # mirror the upper triangle: exactly symmetric
            minv = upper + upper.transpose(1, 2) + torch.diag_embed(diag)
        else:  # cholesky
            U = upper + torch.diag_embed(diag)
            minv = U.transpose(1, 2) @ U
            minv = 0.5 * (minv + minv.transpose(1, 2))
        out = (minv @ tau[..., None])[..., 0]
        return out, (minv if return_minv else None)

    def dynamics(self,
                 positions: torch.Tensor,
                 valid: Optional[torch.Tensor] = None,
                 return_minv: bool = False) -> Dict[str, torch.Tensor]:
        """Run ``E`` and the Lagrangian update on one stream.

        Args:
            positions (torch.Tensor): ``(B, M, T, V, C)`` (any leading dims);
                the first ``num_coords`` channels are used.
            valid (torch.Tensor, optional): ``(B, M, T)`` bool; default:
                non-zero frames.
            return_minv (bool): Also return the dense ``M⁻¹``.

        Returns:
            dict: ``qddot``, ``tau``, ``cqd`` (``C q̇``), ``g``, each
            ``(B, M, T, V, num_coords)``; ``minv`` ``(B, M, T, D, D)`` if
            asked.
        """
        q = self._split(positions)
        lead, T = q.shape[:-3], q.shape[-3]
        if valid is None:
            valid = frame_validity(positions)
        valid = valid.expand(lead + (T, ))
        qd = finite_difference_velocity(q, -3, valid)
        D = self.state_dims
        feat = torch.cat([q.reshape(-1, T, D), qd.reshape(-1, T, D)], -1)
        # contiguous BatchNorm input: torch.compile's fake tensors give a
        # CPU BatchNorm of a transposed input other strides than the real
        # kernel, and the compiled Linear below then fails on a view
        feat = self.in_norm(feat.transpose(1, 2).contiguous()) \
            .transpose(1, 2)
        w = valid.reshape(-1, T, 1).to(feat.dtype)
        pooled = (feat * w).sum(1) / w.sum(1).clamp(min=1)  # (N, 2D)
        hidden = self.trunk(
            torch.cat([
                self.local_fc(feat),
                self.global_fc(pooled)[:, None].expand(-1, T, -1)
            ], -1)).reshape(-1, self.trunk[1].out_features)
        # forces in units of the running acceleration scale (see __init__)
        scale = self.acc_scale.clamp(min=1e-6)
        tau, cqd, g = (self.force_head(hidden) * scale).chunk(3, -1)
        minv_tau, minv = self._minv_times(
            self.minv_head(hidden), tau, return_minv)
        qddot = minv_tau - cqd - g
        shape = q.shape
        out = dict(
            qddot=qddot.reshape(shape),
            tau=tau.reshape(shape),
            cqd=cqd.reshape(shape),
            g=g.reshape(shape))
        if return_minv:
            out['minv'] = minv.reshape(lead + (T, D, D))
        return out

    def forward(self,
                positions: Union[torch.Tensor, Sequence[torch.Tensor]],
                valid: Optional[torch.Tensor] = None,
                return_aux: bool = False):
        """Fused accelerations of one stream or of ``num_streams`` streams.

        Args:
            positions (torch.Tensor | Sequence[torch.Tensor]): One stream
                ``(B, M, T, V, C)`` or a sequence of streams of that shape
                (FineTec: ``[S_base, S_dyna, S_stat]``).
            valid (torch.Tensor, optional): ``(B, M, T)`` bool; default:
                non-zero frames of the first stream.
            return_aux (bool): Also return what :meth:`loss` needs.

        Returns:
            torch.Tensor | tuple: ``a_pred`` ``(B, M, T, V, num_coords)``
            (one stream: its gated ``a``); with ``return_aux`` also a dict
            with lists ``a_hat``, ``qddot``, ``acc`` (one entry per stream)
            and ``valid``.
        """
        streams = [positions] if isinstance(positions,
                                            torch.Tensor) else list(positions)
        if not 1 <= len(streams) <= self.num_streams or \
                1 < len(streams) < self.num_streams:
            raise ValueError(f'Pass one stream or {self.num_streams} '
                             f'streams, got {len(streams)}.')
        if valid is None:
            valid = frame_validity(streams[0])
        valid = valid.expand(streams[0].shape[:-2])
        mask = valid[..., None, None].to(streams[0].dtype)
        if self.training:
            self._update_acc_scale(streams[0], valid, mask)
        a_hats, qddots, accs = [], [], []
        for gate, stream in zip(self.gates, streams):
            a_hat = finite_difference_acceleration(
                self._split(stream), -3, valid)
            qddot = self.dynamics(stream, valid)['qddot'] * mask
            flat = lambda x: x.flatten(-2)  # noqa: E731  (..., T, D)
            gamma = torch.sigmoid(
                gate(torch.cat([flat(a_hat), flat(qddot)], -1)))
            gamma = gamma.view(a_hat.shape)
            a_hats.append(a_hat)
            qddots.append(qddot)
            accs.append(gamma * a_hat + (1 - gamma) * qddot)
        if len(accs) == 1:
            a_pred = accs[0]
        else:
            weight = self.stream_fusion(
                torch.cat([a.flatten(-2) for a in accs], -1)).softmax(-1)
            a_pred = (torch.stack(accs, -1) *
                      weight[..., None, None, :]).sum(-1)
        a_pred = a_pred * mask
        if not return_aux:
            return a_pred
        return a_pred, dict(a_hat=a_hats, qddot=qddots, acc=accs, valid=valid)

    @torch.no_grad()
    def _update_acc_scale(self, positions, valid, mask) -> None:
        """Running RMS of the data's finite-difference acceleration."""
        a_hat = finite_difference_acceleration(
            self._split(positions), -3, valid)
        count = (mask.sum() * a_hat.shape[-2] * a_hat.shape[-1]).clamp(min=1)
        rms = ((a_hat * mask).pow(2).sum() / count).sqrt()
        if self.acc_scale <= 0:
            self.acc_scale.copy_(rms)
        else:
            self.acc_scale.lerp_(rms, self.scale_momentum)

    def loss(self, aux: Dict) -> Dict[str, torch.Tensor]:
        """``L_Ac = mean_α MSE(â_α, a_α)`` over the observed frames.

        Args:
            aux (dict): The second output of ``forward(...,
                return_aux=True)``.

        Returns:
            dict: ``{'loss_acc': loss_weight * L_Ac}``.
        """
        valid = aux['valid']
        w = valid[..., None, None].to(aux['acc'][0].dtype)
        denom = (w.sum() * self.state_dims).clamp(min=1)
        losses = [((a_hat - acc).pow(2) * w).sum() / denom
                  for a_hat, acc in zip(aux['a_hat'], aux['acc'])]
        return dict(loss_acc=self.loss_weight * torch.stack(losses).mean())
