"""Module ①: context-aware sequence completion by in-context learning.

A siMLPe-style MLP network restores the missing frames of a corrupted
skeleton sequence, guided by a prior (the mean sequence of a skeleton bank)
and by a prompt pair drawn from that bank (SPEC §①).

Design choices (documented here because the paper leaves them open):

* **Residual over interpolation.** The network predicts a correction to an
  interpolation of the observed frames (``base_fill``: Akima's piecewise
  cubic by default, which already beats linear interpolation on real
  motion; or linear), and its output projection is zero-initialised, so an
  untrained model *is* that interpolation and training starts from it. The
  correction is low-passed in time (lowest DCT bases) and scaled by a gap
  envelope ``d_prev * d_next`` (the shape of the interpolation error of
  smooth motion): frames next to observed ones barely move, the middle of
  long gaps may move most.
* **Streams.** The query stream reads, per frame and joint, the
  interpolated corrupted sequence, ``S_prior``, the validity flag and the
  distances to the observed frames before and after. The
  prompt stream reads the same kind of pair built from a bank sequence:
  ``S_mask`` (a corrupted ``S_context``), ``S_prior`` and its own mask. The
  prompt stream must *not* see ``S_context``: it has to reconstruct it (the
  prompt term of ``L_ICL``), so the prompt is a demonstration of the same
  task on clean data.
* **Shared weights, Skeleton-in-Context fusion.** Both streams run through
  the same embedding, units and projection. After every unit the prompt
  features are added to the query features, scaled by a learned per-unit
  gate initialised at zero (so fusion starts as a no-op and is learned).
* **Loss.** ``L_ICL = MSE(S_gt, S_base) + MSE(S_context, prompt recon)``,
  each averaged over the *missing* frames only (observed frames are copied
  and carry no error; averaging over them would only rescale the loss by
  the missing ratio of each batch) and over the coordinate channels only
  (``coord_channels``: a 2D keypoint score is interpolated, not learned,
  so that a noisy 0/1 visibility score does not dominate the loss).
"""
from typing import Dict, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn as nn
from mmengine.model import BaseModule

from mmaction.registry import MODELS
from ...core.fill import FILLS, bounded_fill, frame_validity, gap_distances
from ...core.retrieval import RetrievalBank
from ...core.masking import PAPER_STRATEGIES, STRATEGIES, resolve_ratio
from .bank import BankSource, SkeletonBank
from .losses import RECONSTRUCTION_LOSSES, worse_than_base
from .mlp_units import SpatialMLP, TemporalMLP, dct_lowpass
from .prompts import sample_prompt_pairs
from .restoration import (TrainingFreeRestoration, check_retrieval,
                          check_self_validation)


@MODELS.register_module()
class ContextAwareCompletion(BaseModule):
    """Context-aware completion network (FineTec ①).

    Works on any skeleton layout (``K`` joints × ``C`` channels, e.g. COCO-17
    ``(x, y, score)``, NTU-25 ``(x, y, z)``) at a fixed clip length ``T``.
    Inputs may carry any leading dimensions (e.g. ``(N, M)``): they are
    folded into the batch, one sequence per person.

    Args:
        num_joints (int): ``K``. Defaults to 17.
        num_channels (int): ``C``. Defaults to 3.
        clip_len (int): ``T``; inputs must have exactly this many frames.
            Defaults to 100.
        coord_channels (int, optional): The leading channels that are
            coordinates. Channels after them (the keypoint score of 2D input)
            are read as input but only interpolated, not predicted, and left
            out of the loss. Set 2 for ``(x, y, score)`` input. Defaults to
            None (every channel is a coordinate).
        hidden_channels (int): Features per joint inside the network
            (``H``); S units mix ``K·H`` features. Defaults to 16.
        unit_order (str): Sequence of ``'S'``/``'T'`` units. Defaults to the
            paper's ``'STSTTSTS'``.
        bank (str | dict | np.ndarray | SkeletonBank, optional): The skeleton
            bank, see :meth:`SkeletonBank.build`. ``None`` leaves it empty
            (to be loaded with a checkpoint). Defaults to None.
        num_prompts (int): Prompt pairs per query (their features are
            averaged before fusion). Defaults to 1.
        prompt_ratio (float | tuple): Missing ratio of the prompt masks, a
            range is drawn per prompt. Defaults to ``(0.2, 0.8)``.
        prompt_strategies (Sequence[str]): Masking strategies of the prompts,
            one drawn per prompt. Defaults to the paper's five.
        test_prompt_seed (int): Seed of the fixed prompt used in eval mode.
            Defaults to 0.
        base_fill (str): The interpolation of the coordinates the correction
            is added to: ``'akima'``
            (:func:`finetec_mmaction.core.fill.akima_fill`) or ``'linear'``;
            other channels (scores) are interpolated linearly. Defaults to
            ``'akima'``.
        retrieval (dict, optional): Adds to the base fill the motion detail
            of the bank sequences closest to the input on its observed
            frames (:func:`finetec_mmaction.core.retrieval.retrieval_detail`,
            whose keyword arguments it holds, e.g.
            ``dict(num_neighbours=16, flip_index='coco')``; time shifts
            default to ``(-4, -2, 0, 2, 4)``, playback rates to
            ``time_scales=(0.85, 1.0, 1.15)``, bank sequences are scaled by
            up to ``scale_range=(0.7, 1.4)``, mirrored when ``flip_index``
            (a layout name of :data:`finetec_mmaction.core.FLIP_INDEX` or a
            list) is given, and short gaps take less of the detail,
            ``gap_ramp``): a non-learned, context-aware base that
            bends long gaps the way similar movements do. The bank is the
            training split, so in training (and for the prompts, which are
            bank sequences) the closest one, the sequence itself, is left
            out. The bank's retrieval terms
            (:func:`~finetec_mmaction.core.retrieval.prepare_retrieval_bank`: its
            coordinates at each playback rate, so that many copies) are made
            on the first call and kept until the bank changes. ``None``
            (default) keeps the plain ``base_fill``.
        self_validation (dict, optional): Make the restoration safe
            (:mod:`finetec_mmaction.core.self_validation`): where Akima's
            spline or the retrieval detail does not help a clip, by its own
            evidence and by self-validation on the bank, it keeps linear
            interpolation. Keys: ``z_threshold`` (4.0), ``novelty``
            ((1.0, 2.0)), ``probe_shifts``, the opt-in neighbour evidence
            (:mod:`finetec_mmaction.core.neighbour_evidence`)
            ``neighbour_threshold``, ``agreement_range`` and
            ``cross_range`` (None: off), and
            for the bank's calibration ``num_samples`` (512), ``seed`` (0),
            ``grid``, ``tolerance``.
            Defaults to ``dict()`` (on, default settings); ``None`` gives the
            unguarded ``base_fill`` (+ ``retrieval``) of earlier versions.
        fuse_prompt (bool): Add prompt features into the query stream.
            ``False`` gives the prompt-free ablation (the prompt is still
            reconstructed in training). Defaults to True.
        gap_envelope (str, optional): How the predicted correction of a
            missing frame is scaled by its distances ``d_prev``, ``d_next``
            to the observed frames around it. ``'quadratic'``:
            ``d_prev * d_next / gap_scale**2``, the shape of the error of
            linear interpolation (``f'' / 2 * d_prev * d_next`` for smooth
            motion), so the network predicts an acceleration-like term and
            short gaps, where interpolation is near exact, stay close to
            it; ``'linear'``: ``min(d_prev, d_next) / gap_scale``; ``None``:
            unscaled. Defaults to ``'quadratic'``.
        gap_scale (float): Distance in frames at which the envelope is 1.
            Defaults to 4.
        smooth_freqs (int, optional): The correction is projected on the
            ``smooth_freqs`` lowest temporal DCT bases before the envelope is
            applied, so restored motion does not jitter (the MSE loss alone
            does not penalise high-frequency noise). ``0`` disables it.
            Defaults to ``clip_len // 4``.
        loss_weight (float): Weight of ``L_ICL``. Defaults to 1.0.
        reconstruction_loss (str): ``'mse'`` (SPEC's ``L_ICL``) or
            ``'mpjpe'``, the mean per-joint Euclidean error, which is what
            the restoration benchmark scores. Defaults to ``'mse'``.
        prompt_loss_weight (float): Weight of the prompt term inside
            ``L_ICL``. Defaults to 1.0.
        no_worse_weight (float): Weight of a hinge on the clips the learned
            correction restores worse than its training-free base
            (:func:`~.losses.worse_than_base`; the correction starts at zero,
            so the hinge starts at zero too). ``0`` gives the paper's
            ``L_ICL``. Defaults to 1.0.
        init_cfg (dict, optional): Initialisation config. Defaults to None.
    """

    def __init__(self,
                 num_joints: int = 17,
                 num_channels: int = 3,
                 clip_len: int = 100,
                 coord_channels: Optional[int] = None,
                 hidden_channels: int = 16,
                 unit_order: str = 'STSTTSTS',
                 bank: BankSource = None,
                 num_prompts: int = 1,
                 prompt_ratio: Union[float, Tuple[float, float]] = (0.2, 0.8),
                 prompt_strategies: Sequence[str] = PAPER_STRATEGIES,
                 test_prompt_seed: int = 0,
                 fuse_prompt: bool = True,
                 base_fill: str = 'akima',
                 retrieval: Optional[Dict] = None,
                 self_validation: Optional[Dict] = dict(),
                 gap_envelope: Optional[str] = 'quadratic',
                 gap_scale: float = 4.0,
                 smooth_freqs: Optional[int] = None,
                 loss_weight: float = 1.0,
                 reconstruction_loss: str = 'mse',
                 prompt_loss_weight: float = 1.0,
                 no_worse_weight: float = 1.0,
                 init_cfg: Optional[Union[Dict, list]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if set(unit_order) - {'S', 'T'} or not unit_order:
            raise ValueError('unit_order must be a non-empty string of "S" '
                             f'and "T", got {unit_order!r}.')
        resolve_ratio(prompt_ratio, np.random.default_rng(0))  # validate
        unknown = set(prompt_strategies) - set(STRATEGIES)
        if unknown or not prompt_strategies:
            raise ValueError(f'Unknown prompt strategies {sorted(unknown)}; '
                             f'expected a non-empty subset of {STRATEGIES}.')
        self.num_joints = num_joints
        self.num_channels = num_channels
        if coord_channels is None:
            coord_channels = num_channels
        self.base_fill = base_fill
        self.retrieval = check_retrieval(retrieval, num_joints)
        self.self_validation = check_self_validation(self_validation)
        self.restoration = TrainingFreeRestoration(
            base_fill, self.retrieval, self.self_validation, coord_channels)
        if gap_envelope not in ('quadratic', 'linear', None):
            raise ValueError('gap_envelope must be "quadratic", "linear" or '
                             f'None, got {gap_envelope!r}.')
        if smooth_freqs is None:
            smooth_freqs = max(clip_len // 4, 1)
        if not 0 <= smooth_freqs <= clip_len:
            raise ValueError(f'smooth_freqs must be in [0, {clip_len}], got '
                             f'{smooth_freqs}.')
        if not 0 < coord_channels <= num_channels:
            raise ValueError(f'coord_channels must be in [1, {num_channels}], '
                             f'got {coord_channels}.')
        self.coord_channels = coord_channels
        self.clip_len = clip_len
        self.hidden_channels = hidden_channels
        self.num_prompts = num_prompts
        self.prompt_ratio = tuple(prompt_ratio) if isinstance(
            prompt_ratio, (list, tuple)) else prompt_ratio
        self.prompt_strategies = tuple(prompt_strategies)
        self.test_prompt_seed = test_prompt_seed
        self.fuse_prompt = fuse_prompt
        self.loss_weight = loss_weight
        if reconstruction_loss not in RECONSTRUCTION_LOSSES:
            raise ValueError(
                f'reconstruction_loss must be one of '
                f'{sorted(RECONSTRUCTION_LOSSES)}, got {reconstruction_loss!r}.')
        self.reconstruction_loss = reconstruction_loss
        self.prompt_loss_weight = prompt_loss_weight
        self.no_worse_weight = no_worse_weight

        self.bank = SkeletonBank.build(bank, clip_len, num_joints,
                                       num_channels)
        self.gap_envelope = gap_envelope
        self.gap_scale = float(gap_scale)
        # per frame and joint: filled input (C), prior (C), validity flag,
        # distances to the observed frames before and after
        self.embed = nn.Linear(2 * num_channels + 3, hidden_channels)
        self.units = nn.ModuleList([
            SpatialMLP(num_joints, hidden_channels)
            if u == 'S' else TemporalMLP(clip_len, num_joints, hidden_channels)
            for u in unit_order
        ])
        self.fuse_gate = nn.Parameter(torch.zeros(len(unit_order)))
        self.out_proj = nn.Linear(hidden_channels, coord_channels)
        if smooth_freqs:
            self.register_buffer('lowpass',
                                 dct_lowpass(clip_len, smooth_freqs), False)
        else:
            self.lowpass = None
        self._zero_output()

    def _zero_output(self) -> None:
        # zero correction at start: the untrained model is interpolation
        nn.init.zeros_(self.out_proj.weight)
        nn.init.zeros_(self.out_proj.bias)

    def init_weights(self) -> None:
        """Apply ``init_cfg``, keeping the output projection at zero."""
        super().init_weights()
        self._zero_output()

    # ------------------------------------------------------------- prompts
    def sample_prompts(self, num: int) -> Tuple[torch.Tensor, torch.Tensor]:
        """Draw ``num`` prompt pairs from the bank
        (:func:`~.prompts.sample_prompt_pairs`): in training from torch's
        global RNG (seeded by the runner), in eval mode fixed by
        ``test_prompt_seed``.

        Returns:
            tuple: ``S_context`` ``(num, T, K, C)`` and its validity mask
            ``(num, T)`` bool.
        """
        self.bank.check_nonempty()
        seed = int(torch.randint(0, 2**31 - 1, (1, )).item()) \
            if self.training else self.test_prompt_seed
        return sample_prompt_pairs(self.bank.sequences, num, seed,
                                   self.prompt_ratio, self.prompt_strategies)

    # ------------------------------------------------------------- network
    def _retrieval_bank(self, dtype: torch.dtype) -> RetrievalBank:
        """The bank's retrieval terms, kept until the bank changes
        (:meth:`TrainingFreeRestoration.retrieval_bank`)."""
        return self.restoration.retrieval_bank(self.bank.sequences, dtype)

    def _embed(self, x: torch.Tensor, valid: torch.Tensor,
               prior: torch.Tensor,
               in_bank: bool) -> Tuple[torch.Tensor, ...]:
        """Interpolate the stream input and embed it. ``in_bank``: ``x``
        belongs to the bank (its nearest neighbour is itself).

        Returns ``(filled, envelope, hidden)``: ``(B, T, K, C)``,
        ``(B, T, 1, 1)`` and ``(B, T, K, H)``.
        """
        cc = self.coord_channels
        coords = self.restoration(x[..., :cc], valid, self.bank.sequences,
                                  in_bank)
        filled = torch.cat([
            coords, FILLS[bounded_fill(self.base_fill)](x[..., cc:], valid)
        ], dim=-1)
        d_prev, d_next = (d.to(x.dtype)[..., None, None]
                          for d in gap_distances(valid))
        per_frame = torch.cat([
            valid[..., None, None].to(x.dtype), d_prev / self.clip_len,
            d_next / self.clip_len
        ], dim=-1)
        feat = torch.cat([
            filled, prior.expand_as(filled),
            per_frame.expand(-1, -1, self.num_joints, -1)
        ], dim=-1)
        if self.gap_envelope == 'quadratic':
            envelope = d_prev * d_next / self.gap_scale**2
        elif self.gap_envelope == 'linear':
            envelope = torch.minimum(d_prev, d_next) / self.gap_scale
        else:
            envelope = (d_prev > 0).to(x.dtype)
        return filled, envelope, self.embed(feat)

    def _correct(self, filled: torch.Tensor, envelope: torch.Tensor,
                 hidden: torch.Tensor) -> torch.Tensor:
        """Interpolation plus the predicted correction of the coordinates,
        scaled by the gap envelope (score channels stay interpolated)."""
        delta = self.out_proj(hidden)  # (B, T, K, C')
        if self.lowpass is not None:
            delta = torch.einsum('st,btkc->bskc', self.lowpass, delta)
        coords = filled[..., :self.coord_channels] + envelope * delta
        return torch.cat([coords, filled[..., self.coord_channels:]], dim=-1)

    def _check_input(self, x: torch.Tensor) -> None:
        if x.dim() < 3 or tuple(x.shape[-3:]) != (
                self.clip_len, self.num_joints, self.num_channels):
            raise ValueError(
                f'ContextAwareCompletion expects (..., T={self.clip_len}, '
                f'K={self.num_joints}, C={self.num_channels}) input, got '
                f'{tuple(x.shape)}. Sample clips of clip_len frames '
                f'(UniformSampleFrames) and match the model layout.')

    def _run(self, x: torch.Tensor, valid: Optional[torch.Tensor],
             query_in_bank: Optional[bool] = None) -> Dict:
        self._check_input(x)
        if query_in_bank is None:
            # stage 1 trains on the bank's split and tests on another
            query_in_bank = self.training
        lead = x.shape[:-3]
        x = x.reshape((-1, ) + x.shape[-3:])
        batch = x.shape[0]
        if valid is None:
            valid = frame_validity(x)
        valid = valid.to(torch.bool).expand(lead + (self.clip_len, )) \
            .reshape(batch, self.clip_len)
        # all-zero sequences are padded persons: leave them untouched
        present = (x != 0).flatten(1).any(1)
        prior = self.bank.prior().to(x.dtype)

        num_prompt_seqs = (batch if self.training else 1) * self.num_prompts
        context, p_valid = self.sample_prompts(num_prompt_seqs)
        context = context.to(x.dtype)
        p_in = context * p_valid[..., None, None]
        p_filled, p_env, p_h = self._embed(p_in, p_valid, prior, True)
        q_filled, q_env, q_h = self._embed(x, valid, prior, query_in_bank)
        for unit, gate in zip(self.units, self.fuse_gate):
            p_h = unit(p_h)
            q_h = unit(q_h)
            if self.fuse_prompt:
                p_feat = p_h.view((-1, self.num_prompts) + p_h.shape[1:])
                q_h = q_h + gate * p_feat.mean(1)

        keep = (valid | ~present[:, None])[..., None, None]
        s_base = torch.where(keep, x, self._correct(q_filled, q_env, q_h))
        p_recon = torch.where(p_valid[..., None, None], p_in,
                              self._correct(p_filled, p_env, p_h))
        return dict(
            s_base=s_base.reshape(lead + s_base.shape[1:]),
            base=q_filled,
            lead=lead,
            valid=valid,
            present=present,
            prompt_context=context,
            prompt_valid=p_valid,
            prompt_recon=p_recon)

    def forward(self,
                x: torch.Tensor,
                valid: Optional[torch.Tensor] = None,
                query_in_bank: Optional[bool] = None) -> torch.Tensor:
        """Restore the missing frames.

        Args:
            x (torch.Tensor): ``(..., T, K, C)`` corrupted sequences, missing
                frames zero-filled (e.g. ``(N, M, T, V, C)``).
            valid (torch.Tensor, optional): ``(..., T)`` bool (broadcastable),
                ``True`` where observed. Defaults to the frames that are not
                all zero (:func:`finetec_mmaction.core.frame_validity`).
            query_in_bank (bool, optional): ``x`` comes from the split the
                bank was built from, so ``retrieval`` leaves out its nearest
                bank sequence (itself). Defaults to the training mode: a
                frozen module in a training recognizer must be told.

        Returns:
            torch.Tensor: ``S_base`` of the shape of ``x``: observed frames
            are ``x`` bit for bit, missing frames are predicted; all-zero
            (absent) persons stay zero.
        """
        return self._run(x, valid, query_in_bank)['s_base']

    def loss(self,
             x: torch.Tensor,
             gt: torch.Tensor,
             valid: Optional[torch.Tensor] = None) -> Dict[str, torch.Tensor]:
        """``L_ICL`` on a batch.

        Args:
            x (torch.Tensor): ``(..., T, K, C)`` corrupted input.
            gt (torch.Tensor): ``(..., T, K, C)`` clean sequences ``S_gt``.
            valid (torch.Tensor, optional): ``(..., T)`` observed frames.

        Returns:
            dict: ``loss_icl`` (the weighted sum that is optimised) and the
            detached terms ``{reconstruction_loss}_query``,
            ``{reconstruction_loss}_prompt`` (e.g. ``mse_query``) and
            ``worse_than_base`` for logging.
        """
        out = self._run(x, valid)
        s_base = out['s_base'].reshape(out['valid'].shape + x.shape[-2:])
        gt = gt.to(s_base.dtype).reshape(s_base.shape)
        missing = ~out['valid'] & out['present'][:, None]
        cc = self.coord_channels
        criterion = RECONSTRUCTION_LOSSES[self.reconstruction_loss]
        rec_query = criterion(s_base[..., :cc], gt[..., :cc], missing)
        rec_prompt = criterion(out['prompt_recon'][..., :cc],
                               out['prompt_context'][..., :cc],
                               ~out['prompt_valid'])
        # the correction must earn its keep: clips it makes worse than the
        # training-free base it starts from are penalised
        worse = worse_than_base(s_base[..., :cc], out['base'][..., :cc],
                                gt[..., :cc], missing)
        loss = self.loss_weight * (
            rec_query + self.prompt_loss_weight * rec_prompt +
            self.no_worse_weight * worse)
        name = self.reconstruction_loss
        return {
            'loss_icl': loss,
            f'{name}_query': rec_query.detach(),
            f'{name}_prompt': rec_prompt.detach(),
            'worse_than_base': worse.detach()
        }
