"""The training-free restoration of module ①: what its network corrects, and
what an untrained module returns.

An interpolation of the observed frames (Akima's spline or linear), plus
optionally the motion detail of the most similar bank sequences
(:func:`~finetec_mmaction.core.retrieval.retrieval_detail`), made safe by
self-validation (:mod:`finetec_mmaction.core.self_validation`): where the
spline or the detail does not help a clip it falls back to linear
interpolation.
"""
from typing import Dict, Optional

import torch

from ...core.fill import FILLS, akima_fill, linear_fill
from ...core.neighbour_evidence import (cross_prediction, detail_agreement,
                                        neighbour_preference)
from ...core.regions import FLIP_INDEX, get_flip_index
from ...core.retrieval import (RetrievalBank, find_neighbours,
                               neighbour_detail, neighbour_details,
                               prepare_retrieval_bank)
from ...core.self_validation import (PROBE_SHIFTS, BlendTable,
                                     calibrate_blend,
                                     interpolation_preference, safe_blend)

RETRIEVAL_KEYS = ('num_neighbours', 'time_shifts', 'weighting', 'gap_ramp',
                  'flip_index', 'scale_range', 'time_scales')
RETRIEVAL_DEFAULTS = dict(time_shifts=(-4, -2, 0, 2, 4),
                          gap_ramp=8,
                          scale_range=(0.7, 1.4),
                          time_scales=(0.85, 1.0, 1.15))
BLEND_KEYS = ('z_threshold', 'novelty', 'probe_shifts',
              'neighbour_threshold', 'agreement_range', 'cross_range')
CALIBRATION_KEYS = ('num_samples', 'seed', 'grid', 'tolerance')


def check_retrieval(retrieval: Optional[Dict],
                    num_joints: int) -> Optional[Dict]:
    """``retrieval`` options with their defaults, a layout name of
    ``flip_index`` replaced by its table; ``ValueError`` on bad keys."""
    if retrieval is None:
        return None
    retrieval = dict(retrieval)
    unknown = set(retrieval) - set(RETRIEVAL_KEYS)
    if unknown or 'num_neighbours' not in retrieval:
        raise ValueError(
            'retrieval takes num_neighbours (required), time_shifts, '
            'weighting, gap_ramp, flip_index, scale_range and '
            f'time_scales, got {sorted(retrieval)}.')
    for key, value in RETRIEVAL_DEFAULTS.items():
        retrieval.setdefault(key, value)
    flip = retrieval.get('flip_index')
    if isinstance(flip, str):
        # a layout name: its left/right table
        retrieval['flip_index'] = get_flip_index(flip)
        if retrieval['flip_index'] is None:
            raise ValueError(
                f'retrieval flip_index {flip!r}: no left/right table for '
                f'that layout (known: {sorted(FLIP_INDEX)}); give a list '
                'of partners or None.')
    if retrieval.get('flip_index') is not None and \
            len(retrieval['flip_index']) != num_joints:
        raise ValueError(
            f'retrieval flip_index has {len(retrieval["flip_index"])} '
            f'entries for {num_joints} joints.')
    return retrieval


def check_self_validation(options: Optional[Dict]) -> Optional[Dict]:
    """``self_validation`` options; ``ValueError`` on bad keys."""
    if options is None:
        return None
    options = dict(options)
    unknown = set(options) - set(BLEND_KEYS) - set(CALIBRATION_KEYS)
    if unknown:
        raise ValueError(
            f'self_validation takes {sorted(BLEND_KEYS + CALIBRATION_KEYS)},'
            f' got unknown {sorted(unknown)}.')
    novelty = tuple(options.get('novelty', (1.0, 2.0)))
    if len(novelty) != 2 or not 0 < novelty[0] < novelty[1]:
        raise ValueError('self_validation novelty must be (low, high) with '
                         f'0 < low < high, got {novelty}.')
    for key in ('agreement_range', 'cross_range'):
        pair = options.get(key)
        if pair is not None and (len(pair) != 2 or
                                 not 0 <= pair[0] < pair[1]):
            raise ValueError(f'self_validation {key} must be (low, high) '
                             f'with 0 <= low < high, got {pair}.')
    threshold = options.get('neighbour_threshold')
    if threshold is not None and not threshold > 0:
        raise ValueError('self_validation neighbour_threshold must be > 0 '
                         f'or None, got {threshold}.')
    return options


class TrainingFreeRestoration:
    """Interpolation (+ retrieval), made safe by self-validation.

    Not a module: it holds no weights, only options and what it derives
    from the bank (its retrieval terms and its self-validated blend
    weights), made on first use and remade when the bank changes.

    Args:
        base_fill (str): ``'akima'`` or ``'linear'``.
        retrieval (dict, optional): Checked by :func:`check_retrieval`.
        self_validation (dict, optional): Checked by
            :func:`check_self_validation`; ``None`` adds the retrieval detail
            to ``base_fill`` unguarded (the behaviour of earlier versions).
        coord_channels (int): Coordinate channels of the bank.
    """

    def __init__(self, base_fill: str, retrieval: Optional[Dict],
                 self_validation: Optional[Dict], coord_channels: int):
        if base_fill not in ('akima', 'linear'):
            raise ValueError('base_fill must be "akima" or "linear", got '
                             f'{base_fill!r}.')
        self.base_fill = base_fill
        self.retrieval = retrieval
        self.self_validation = self_validation
        self.coord_channels = coord_channels
        # (bank tensor, its version, dtype) -> derived terms
        self._caches: Dict[str, tuple] = {}
        self._pinned: Dict[str, object] = {}

    def pin(self, sequences: torch.Tensor, dtype: torch.dtype) -> None:
        """Make the bank's derived terms now and use them whatever tensor
        the bank is seen as later, until :meth:`unpin`: an exporter traces
        the module with stand-ins for its buffers, and the terms (from a
        seeded, numpy-drawn self-validation) then enter the graph as
        constants."""
        self._pinned = {}
        if self.retrieval is not None:
            pinned = dict(retrieval=self.retrieval_bank(sequences, dtype))
            if self.self_validation is not None:
                pinned['blend'] = self.blend_table(sequences, dtype)
            self._pinned = pinned

    def unpin(self) -> None:
        """Back to terms keyed on the bank (see :meth:`pin`)."""
        self._pinned = {}

    def _cached(self, name: str, sequences: torch.Tensor,
                dtype: torch.dtype, make):
        if name in self._pinned:
            return self._pinned[name]
        key = (sequences, sequences._version, dtype)
        cached = self._caches.get(name)
        # the key holds the tensor itself, so while cached it cannot be
        # freed and another one take its place unnoticed
        if cached is None or cached[0][0] is not sequences or \
                cached[0][1:] != key[1:]:
            cached = self._caches[name] = (key, make())
        return cached[1]

    def retrieval_bank(self, sequences: torch.Tensor,
                       dtype: torch.dtype) -> RetrievalBank:
        """The bank's retrieval terms
        (:func:`~finetec_mmaction.core.retrieval.prepare_retrieval_bank`:
        its coordinates at each playback rate, so that many copies)."""
        return self._cached(
            'retrieval', sequences, dtype,
            lambda: prepare_retrieval_bank(
                sequences[..., :self.coord_channels].to(dtype),
                self.retrieval['time_scales']))

    def blend_table(self, sequences: torch.Tensor,
                    dtype: torch.dtype) -> BlendTable:
        """The bank's self-validated blend weights
        (:func:`~finetec_mmaction.core.self_validation.calibrate_blend`)."""
        options = {k: v for k, v in self.self_validation.items()
                   if k in CALIBRATION_KEYS}
        return self._cached(
            'blend', sequences, dtype,
            lambda: calibrate_blend(
                sequences[..., :self.coord_channels].to(dtype),
                self.retrieval_bank(sequences, dtype), self.retrieval,
                method=self.base_fill, **options))

    def __call__(self, coords: torch.Tensor, valid: torch.Tensor,
                 sequences: torch.Tensor, in_bank: bool) -> torch.Tensor:
        """Restore the missing frames.

        Args:
            coords (torch.Tensor): ``(B, T, K, C')`` coordinate channels,
                missing frames any.
            valid (torch.Tensor): ``(B, T)`` bool.
            sequences (torch.Tensor): ``(N, T, K, C)`` the bank.
            in_bank (bool): ``coords`` belong to the bank (retrieval leaves
                their nearest sequence, themselves, out).

        Returns:
            torch.Tensor: ``(B, T, K, C')``, observed frames unchanged.
        """
        detail = neighbours = None
        if self.retrieval is not None:
            search = dict(self.retrieval)
            gap_ramp = search.pop('gap_ramp')
            bank = self.retrieval_bank(sequences, coords.dtype)
            neighbours = find_neighbours(coords, valid, bank,
                                         skip_nearest=int(in_bank), **search)
            details = neighbour_details(neighbours, valid, self.base_fill)
            detail = neighbour_detail(neighbours, details, valid, gap_ramp)
        if self.self_validation is None:
            base = FILLS[self.base_fill](coords, valid)
            return base if detail is None else base + detail
        options = self.self_validation
        shifts = tuple(options.get('probe_shifts', PROBE_SHIFTS))
        blend = dict(z_threshold=options.get('z_threshold', 4.0),
                     novelty=tuple(options.get('novelty', (1.0, 2.0))))
        preference = interpolation_preference(coords, valid, shifts)
        table = fit = None
        if neighbours is not None:
            table = self.blend_table(sequences, coords.dtype)
            fit = neighbours.fit
            # opt-in trade-offs (docs/experiments/safe_restoration.md)
            if options.get('neighbour_threshold') is not None:
                blend['neighbour_z'] = neighbour_preference(
                    neighbours, valid, details, self.base_fill)
                blend['neighbour_threshold'] = options['neighbour_threshold']
            if options.get('agreement_range') is not None:
                blend['agreement'] = detail_agreement(details,
                                                      neighbours.weights)
                blend['agreement_range'] = tuple(options['agreement_range'])
            if options.get('cross_range') is not None:
                blend['cross_ratio'] = cross_prediction(
                    coords, valid, bank, skip_nearest=int(in_bank), **search)
                blend['cross_range'] = tuple(options['cross_range'])
        linear = linear_fill(coords, valid)
        akima = akima_fill(coords, valid) if self.base_fill == 'akima' \
            else linear
        return safe_blend(linear, akima, valid, preference, detail, fit,
                          table, **blend)
