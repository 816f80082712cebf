"""The skeleton bank of module ①: clean sequences that prompts are drawn
from and whose per-frame mean is the prior ``S_prior``.

SPEC §①: the paper used a Human3.6M bank; we build it from the *training
split's clean sequences* of the dataset itself (same joint layout, no
external data), cut to the model's clip length the way the input pipeline
cuts a test clip (:func:`sample_clip_frames`) and normalised like the model
inputs. A bank can be saved to and loaded from a file, and it lives in
a buffer so that it travels inside checkpoints.
"""
import json
import logging
import os.path as osp
from typing import Dict, Iterable, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn as nn
from mmengine.logging import print_log

from ...core.fill import fill_missing_frames
from ...datasets.safe_pickle import safe_load_pickle
from ...datasets.validation import select_split, validate_annotations
from ...utils.io import atomic_write
from .bank_sequences import (FRAME_SAMPLINGS, bank_recipe, normalize_2d,
                             normalize_3d, resample_sequence,
                             sample_clip_frames, stale_keys)

BankSource = Union[None, str, dict, np.ndarray, torch.Tensor, 'SkeletonBank']

#: ``normalize`` choices: ``'2d'`` = ``PreNormalize2D``, ``'3d'`` =
#: ``PreNormalize3D``, ``None`` / ``'none'`` = coordinates as stored.
NORMALIZATIONS = ('2d', '3d', 'none', None)



class SkeletonBank(nn.Module):
    """A bank of clean skeleton sequences, stored as a buffer.

    Args:
        sequences (np.ndarray | torch.Tensor, optional): ``(N, T, K, C)``
            clean, normalised sequences. ``None`` makes an empty bank, to be
            filled by :meth:`set_sequences` or by loading a checkpoint.
        num_joints (int, optional): Expected ``K``; checked against
            ``sequences`` (and against checkpoints) when given.
        num_channels (int, optional): Expected ``C``.
        clip_len (int, optional): ``T``; sequences of another length are
            linearly resampled to it.
        meta (dict, optional): JSON-serialisable provenance (normalisation,
            source file, split), saved with the bank.
    """

    def __init__(self,
                 sequences: Union[None, np.ndarray, torch.Tensor] = None,
                 num_joints: Optional[int] = None,
                 num_channels: Optional[int] = None,
                 clip_len: Optional[int] = None,
                 meta: Optional[Dict] = None) -> None:
        super().__init__()
        self.num_joints = num_joints
        self.num_channels = num_channels
        self.clip_len = clip_len
        self.meta = dict(meta or {})
        empty = torch.zeros(0, clip_len or 0, num_joints or 0,
                            num_channels or 0)
        self.register_buffer('sequences', empty)
        if sequences is not None:
            self.set_sequences(sequences)

    # ------------------------------------------------------------- contents
    def __len__(self) -> int:
        return int(self.sequences.shape[0])

    @property
    def layout(self) -> Tuple[int, int]:
        """``(K, C)`` of the stored sequences (or the expected layout)."""
        if len(self):
            return tuple(self.sequences.shape[2:])
        return (self.num_joints, self.num_channels)

    def check_layout(self, num_joints: int, num_channels: int,
                     shape: Optional[Sequence[int]] = None) -> None:
        """Raise a ``ValueError`` naming both layouts if they differ."""
        k, c = tuple(shape[-2:]) if shape is not None else self.layout
        if (k, c) != (num_joints, num_channels):
            raise ValueError(
                f'Skeleton bank layout mismatch: the bank holds {k} joints x '
                f'{c} channels but the completion model expects {num_joints} '
                f'joints x {num_channels} channels. Rebuild the bank from '
                f'data with the model\'s layout (e.g. with_score=True adds '
                f'the score as a third 2D channel).')

    def set_sequences(self, sequences: Union[np.ndarray, torch.Tensor]):
        """Replace the contents with ``(N, T, K, C)`` sequences."""
        seq = torch.as_tensor(np.asarray(sequences) if not isinstance(
            sequences, torch.Tensor) else sequences).detach().float()
        if seq.dim() != 4:
            raise ValueError('A skeleton bank holds (N, T, K, C) sequences, '
                             f'got shape {tuple(seq.shape)}.')
        if self.num_joints is not None and self.num_channels is not None:
            self.check_layout(self.num_joints, self.num_channels, seq.shape)
        if self.clip_len is not None and seq.shape[1] != self.clip_len \
                and len(seq):
            seq = torch.from_numpy(
                resample_sequence(seq.transpose(0, 1).cpu().numpy(),
                                  self.clip_len)).transpose(0, 1)
        self.num_joints, self.num_channels = int(seq.shape[2]), int(
            seq.shape[3])
        self.clip_len = int(seq.shape[1])
        self.sequences = seq.contiguous().to(self.sequences.device)
        return self

    def check_nonempty(self) -> None:
        if len(self) == 0:
            raise RuntimeError(
                'The skeleton bank is empty: build it from the training split '
                '(bank=dict(ann_file=..., split="train")), pass a bank file '
                '(bank="bank.npz"), or load a checkpoint that contains one '
                'before running the completion model.')

    def prior(self) -> torch.Tensor:
        """``S_prior``: the per-frame-index mean of the bank, ``(T, K, C)``."""
        self.check_nonempty()
        return self.sequences.mean(0)

    @property
    def data_dependent_dims(self) -> Dict[str, int]:
        """Leading dims of each buffer that follow the data and are taken
        from a checkpoint on load (:meth:`_load_from_state_dict`): the
        number of sequences and ``T``; the whole shape while the layout is
        unknown. Read by
        :func:`finetec_mmaction.utils.check_checkpoint_compatible`."""
        known = self.num_joints is not None and self.num_channels is not None
        return {'sequences': 2 if known else 4}

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict,
                              missing_keys, unexpected_keys, error_msgs):
        # The bank size is data-dependent: take the checkpoint's shape instead
        # of failing with a size mismatch (a model built with bank=None can
        # load a trained checkpoint).
        key = prefix + 'sequences'
        incoming = state_dict.get(key)
        if isinstance(incoming, torch.Tensor) and incoming.dim() == 4 \
                and incoming.shape != self.sequences.shape:
            if self.num_joints is not None and self.num_channels is not None \
                    and len(incoming) \
                    and tuple(incoming.shape[2:]) != (self.num_joints,
                                                      self.num_channels):
                try:
                    self.check_layout(self.num_joints, self.num_channels,
                                      incoming.shape)
                except ValueError as e:
                    error_msgs.append(str(e))
                    return
            self.sequences = torch.empty(
                incoming.shape, dtype=self.sequences.dtype,
                device=self.sequences.device)
            self.clip_len = int(incoming.shape[1])
        super()._load_from_state_dict(state_dict, prefix, local_metadata,
                                      strict, missing_keys, unexpected_keys,
                                      error_msgs)

    def extra_repr(self) -> str:
        return (f'num_sequences={len(self)}, clip_len={self.clip_len}, '
                f'layout={self.layout}')

    # ------------------------------------------------------------ file I/O
    def save(self, path: str) -> None:
        """Save to ``.npz`` (default) or ``.pt``/``.pth``, atomically."""
        seq = self.sequences.detach().cpu()
        meta = json.dumps(self.meta)
        if path.endswith(('.pt', '.pth')):
            atomic_write(path, lambda f: torch.save(
                dict(sequences=seq, meta=meta), f))
        else:
            atomic_write(path, lambda f: np.savez(
                f, sequences=seq.numpy(), meta=np.array(meta)))

    @classmethod
    def load(cls, path: str, **kwargs) -> 'SkeletonBank':
        """Load a bank saved by :meth:`save` (``.npz``, ``.pt``/``.pth``).

        ``kwargs`` (``num_joints``, ``num_channels``, ``clip_len``) are
        checked / applied as in the constructor.
        """
        if not osp.isfile(path):
            raise FileNotFoundError(f'No skeleton bank file at {path!r}.')
        if path.endswith(('.pt', '.pth')):
            data = torch.load(path, map_location='cpu', weights_only=True)
            seq, meta = data['sequences'], data.get('meta', '{}')
        else:
            with np.load(path, allow_pickle=False) as data:
                seq = data['sequences']
                meta = str(data['meta']) if 'meta' in data else '{}'
        meta = dict(json.loads(meta), file=osp.abspath(path))
        return cls(seq, meta=meta, **kwargs)

    # ----------------------------------------------------------- from data
    @classmethod
    def from_annotations(cls,
                         annotations: Iterable[Dict],
                         clip_len: int,
                         normalize: Optional[str] = '2d',
                         with_score: Optional[bool] = None,
                         img_shape: Tuple[int, int] = (1080, 1920),
                         max_size: Optional[int] = None,
                         seed: int = 0,
                         classes: Optional[Sequence[int]] = None,
                         frame_sampling: str = FRAME_SAMPLINGS[0],
                         meta: Optional[Dict] = None) -> 'SkeletonBank':
        """Build a bank from PoseDataset annotations (clean sequences).

        Every person that appears in an annotation becomes one sequence:
        frames whose coordinates are all zero (detector gaps in the raw data)
        are linearly interpolated, the coordinates are normalised exactly as
        the input pipeline does, the score is appended as a channel like
        ``GenSkeFeat``, and the sequence is resampled to ``clip_len``.

        Args:
            annotations (Iterable[dict]): Dicts with ``keypoint``
                ``(M, T, V, C)`` and optionally ``keypoint_score``
                ``(M, T, V)`` and ``img_shape``.
            clip_len (int): ``T`` of the model.
            normalize (str, optional): ``'2d'``: ``PreNormalize2D``
                (``(x - w/2) / (w/2)``, ``(y - h/2) / (h/2)``, per-annotation
                ``img_shape``); ``'3d'``: ``PreNormalize3D``; ``None``: raw.
            with_score (bool, optional): Append ``keypoint_score`` as a
                channel; ``None`` appends it when present (as ``GenSkeFeat``
                does).
            img_shape (tuple): Fallback ``(h, w)`` of ``PreNormalize2D``.
            max_size (int, optional): Keep at most this many sequences, a
                seeded random subset (the bank is stored in checkpoints).
            seed (int): Seed of that subset.
            classes (Sequence[int], optional): Keep only annotations of these
                labels (e.g. a class-disjoint bank, to check restoration on
                movements the bank does not hold). Defaults to all.
            frame_sampling (str): How a sequence becomes ``clip_len``
                frames. ``'uniform'``: the frames of the test clip the input
                pipeline's ``UniformSampleFrames`` takes
                (:func:`sample_clip_frames`), so a short video loops in the
                bank as it does in the clips it is compared with;
                ``'resample'``: linearly stretched or squeezed
                (:func:`resample_sequence`), how banks were built before.
                Defaults to ``'uniform'``.
            meta (dict, optional): Extra provenance to record.

        Returns:
            SkeletonBank: ``(N, clip_len, V, C')`` sequences.
        """
        if normalize not in NORMALIZATIONS:
            raise ValueError(f'normalize must be one of {NORMALIZATIONS}, got '
                             f'{normalize!r}.')
        if frame_sampling not in FRAME_SAMPLINGS:
            raise ValueError(f'frame_sampling must be one of '
                             f'{FRAME_SAMPLINGS}, got {frame_sampling!r}.')
        annotations = list(annotations)
        if classes is not None:
            keep = {int(c) for c in classes}
            annotations = [a for a in annotations if int(a['label']) in keep]
            if not annotations:
                raise ValueError(f'No annotation of the classes {sorted(keep)} '
                                 'for the skeleton bank.')
        candidates = []
        for i, ann in enumerate(annotations):
            kp = np.asarray(ann['keypoint'])
            if kp.ndim != 4:
                raise ValueError(
                    f'Annotation {ann.get("frame_dir", i)!r}: keypoint must '
                    f'be (M, T, V, C), got shape {kp.shape}.')
            for m in range(kp.shape[0]):
                if kp.shape[1] and np.any(kp[m] != 0):
                    candidates.append((i, m))
        if max_size is not None and len(candidates) > max_size:
            keep = np.random.default_rng(seed).choice(
                len(candidates), max_size, replace=False)
            candidates = [candidates[j] for j in np.sort(keep)]

        sequences, cache = [], {}
        for i, m in candidates:
            if i not in cache:
                cache.clear()  # one annotation at a time
                cache[i] = cls._prepare(annotations[i], normalize, with_score,
                                        img_shape)
            person = cache[i][m]
            sequences.append(
                person[sample_clip_frames(len(person), clip_len)]
                if frame_sampling == 'uniform' else resample_sequence(
                    person, clip_len))
        seq = np.stack(sequences).astype(np.float32) if sequences else None
        info = dict(normalize=normalize, clip_len=clip_len,
                    num_sequences=len(sequences),
                    frame_sampling=frame_sampling)
        if classes is not None:
            info['classes'] = sorted(int(c) for c in classes)
        info.update(meta or {})
        return cls(seq, clip_len=clip_len, meta=info)

    @staticmethod
    def _prepare(ann: Dict, normalize, with_score, img_shape) -> np.ndarray:
        """``(M, T, V, C')`` float64: gaps filled, normalised, score added."""
        kp = np.asarray(ann['keypoint'], dtype=np.float64)
        score = ann.get('keypoint_score')
        if with_score and score is None:
            raise KeyError(f'with_score=True but annotation '
                           f'{ann.get("frame_dir", "?")!r} has no '
                           f'keypoint_score.')
        use_score = score is not None and with_score is not False
        if use_score:
            score = np.asarray(score, dtype=np.float64)
        for m in range(kp.shape[0]):
            # all-zero frames of the raw data are detector gaps, not poses
            valid = np.any(kp[m] != 0, axis=(-1, -2))
            if valid.any() and not valid.all():
                kp[m] = fill_missing_frames(kp[m], valid, 'linear', axis=0)
                if use_score:
                    score[m] = fill_missing_frames(score[m], valid, 'linear',
                                                   axis=0)
        if normalize == '2d':
            kp = normalize_2d(kp, ann.get('img_shape', img_shape))
        elif normalize == '3d':
            kp = normalize_3d(kp)
        if use_score:
            kp = np.concatenate([kp, score[..., None]], axis=-1)
        return kp

    @classmethod
    def from_pickle(cls,
                    ann_file: str,
                    clip_len: int,
                    split: Optional[str] = 'train',
                    **kwargs) -> 'SkeletonBank':
        """Build a bank from a PoseDataset pickle's ``split`` (clean
        sequences of the training split by default).

        ``kwargs`` go to :meth:`from_annotations`.
        """
        # the same safe loading, split selection and validation as the
        # dataset, so a bank never holds what training would refuse
        annotations, indices = select_split(
            safe_load_pickle(ann_file), split, ann_file)
        annotations, _ = validate_annotations(
            annotations, ann_file, indices=indices)
        meta = dict(kwargs.pop('meta', None) or {}, ann_file=ann_file,
                    split=split)
        return cls.from_annotations(annotations, clip_len, meta=meta,
                                    **kwargs)

    @classmethod
    def build(cls, source: BankSource, clip_len: int, num_joints: int,
              num_channels: int) -> 'SkeletonBank':
        """Build the bank of a model from a config value.

        Args:
            source: ``None`` (empty; expect a checkpoint), a file path, an
                ``(N, T, K, C)`` array, a :class:`SkeletonBank`, or a dict:
                ``dict(file=PATH)`` or ``dict(ann_file=PKL, split='train',
                cache=PATH, **from_annotations_kwargs)``; with ``cache`` the
                bank is loaded from ``PATH`` when it exists, else built and
                saved there.
            clip_len, num_joints, num_channels: The model's ``T``, ``K``,
                ``C``; the bank is resampled to ``T`` and its layout checked.
        """
        layout = dict(num_joints=num_joints, num_channels=num_channels,
                      clip_len=clip_len)
        if source is None:
            return cls(**layout)
        if isinstance(source, SkeletonBank):
            return cls(source.sequences, meta=source.meta, **layout)
        if isinstance(source, str):
            return cls.load(source, **layout)
        if isinstance(source, (np.ndarray, torch.Tensor)):
            return cls(source, **layout)
        if isinstance(source, dict):
            cfg = dict(source)
            if 'file' in cfg:
                return cls.load(cfg['file'], **layout)
            if 'ann_file' not in cfg:
                raise ValueError('A bank dict needs "file" or "ann_file", got '
                                 f'keys {sorted(cfg)}.')
            cache = cfg.pop('cache', None)
            recipe = bank_recipe(cfg)
            if cache and osp.isfile(cache):
                cached = cls.load(cache, **layout)
                stale = stale_keys(cached.meta, recipe)
                if not stale:
                    return cached
                print_log(
                    f'skeleton bank cache {cache} was built with other '
                    f'{", ".join(stale)} (its file, split or options '
                    'changed): rebuilding it.',
                    logger='current',
                    level=logging.WARNING)
            cfg['meta'] = dict(cfg.get('meta') or {}, recipe=recipe)
            bank = cls.from_pickle(cfg.pop('ann_file'), clip_len, **cfg)
            bank = cls(bank.sequences if len(bank) else None, meta=bank.meta,
                       **layout)
            if cache:
                bank.save(cache)
            return bank
        raise TypeError(f'Cannot build a skeleton bank from {type(source)}.')
