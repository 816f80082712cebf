"""Readers of skeleton arrays: NumPy files and one PoseDataset sample.

Both hold people that are already tracked (one row per person), so no
tracker runs; a frame is missing where its coordinates are NaN or all zero,
or its mean keypoint score is below ``kpt_thr``
(:func:`~finetec_mmaction.datasets.readers.observed_frames`).
"""
import os.path as osp

import numpy as np

from ..safe_pickle import safe_load_pickle
from ..validation import InvalidSampleError, select_split, validate_annotations
from .pose_sequence import DEFAULT_KPT_THR, PoseFileError, PoseSequence

__all__ = ['load_numpy_poses', 'load_pose_pickle_sample']


def _npz_arrays(path: str):
    with np.load(path, allow_pickle=False) as data:
        names = list(data.files)
        if 'keypoint' in names:
            key = 'keypoint'
        elif len(names) == 1:
            key = names[0]
        else:
            raise PoseFileError(
                f'{path}: an .npz needs an array "keypoint" (and optionally '
                f'"keypoint_score", "img_shape"); it holds {names}.')
        score = data['keypoint_score'] if 'keypoint_score' in names else None
        img_shape = tuple(int(v) for v in data['img_shape']) \
            if 'img_shape' in names else None
        return data[key], score, img_shape


def load_numpy_poses(path: str,
                     coord_dims: int = 2,
                     kpt_thr: float = DEFAULT_KPT_THR) -> PoseSequence:
    """A :class:`PoseSequence` from ``.npy`` / ``.npz``.

    The array is ``(T, V, C)`` (one person) or ``(M, T, V, C)``, with NaN or
    zeros where a frame is missing. ``C`` is ``coord_dims`` (coordinates
    only) or, for 2D, 3: ``(x, y, score)``. An ``.npz`` holds ``keypoint``
    and optionally ``keypoint_score`` ``(M, T, V)`` and ``img_shape``
    ``(H, W)``. 2D poses without scores count as fully confident (score 1).

    Args:
        path (str): The file.
        coord_dims (int): 2 (pixels) or 3 (e.g. metres): what the model
            reads.
        kpt_thr (float): Least mean keypoint score of an observed frame.
    """
    try:
        if path.endswith('.npz'):
            keypoint, score, img_shape = _npz_arrays(path)
        else:
            keypoint, score, img_shape = np.load(path,
                                                 allow_pickle=False), None, None
    except (ValueError, OSError, EOFError) as err:
        if isinstance(err, PoseFileError):
            raise
        raise PoseFileError(f'{path}: not a readable NumPy file of numbers '
                            f'({err}).') from None
    if not np.issubdtype(keypoint.dtype, np.number):
        raise PoseFileError(f'{path}: keypoints must be numbers, got dtype '
                            f'{keypoint.dtype}.')
    if keypoint.ndim == 3:
        keypoint = keypoint[None]
        score = None if score is None else np.asarray(score)[None]
    if keypoint.ndim != 4:
        raise PoseFileError(f'{path}: expected (T, V, C) or (M, T, V, C) '
                            f'keypoints, got shape {keypoint.shape}.')
    channels = keypoint.shape[-1]
    if coord_dims == 2 and channels == 3 and score is None:
        keypoint, score = keypoint[..., :2], keypoint[..., 2]
    elif channels != coord_dims:
        raise PoseFileError(
            f'{path}: {channels} channels per joint, but the model reads '
            f'{coord_dims}D poses: expected C = {coord_dims}' +
            (' or 3 (x, y, score)' if coord_dims == 2 else '') +
            f' (shape {keypoint.shape}).')
    if score is not None and np.shape(score) != keypoint.shape[:3]:
        raise PoseFileError(f'{path}: keypoint_score of shape '
                            f'{np.shape(score)} does not fit keypoints '
                            f'{keypoint.shape} (expected (M, T, V)).')
    if score is None and coord_dims == 2:
        score = np.ones(keypoint.shape[:3], np.float32)
    return PoseSequence.from_arrays(keypoint, score, kpt_thr,
                                    img_shape=img_shape, source=path)


def load_pose_pickle_sample(path: str,
                            frame_dir: str,
                            kpt_thr: float = DEFAULT_KPT_THR) -> PoseSequence:
    """One sample, by ``frame_dir``, of a PoseDataset annotation pickle
    (read with the restricted unpickler and checked like the dataset
    does; its ``img_shape`` comes along)."""
    annotations, indices = select_split(safe_load_pickle(path), None, path)
    names = [a.get('frame_dir', a.get('filename')) if isinstance(a, dict)
             else None for a in annotations]
    if frame_dir not in names:
        raise PoseFileError(
            f'{path}: no sample with frame_dir {frame_dir!r} (it has '
            f'{len(names)} samples, e.g. {names[:3]}).')
    i = names.index(frame_dir)
    ann = annotations[i]
    ann = dict(ann, label=0)  # the label is not needed (nor checked) here
    try:
        validate_annotations([ann], path, indices=[indices[i]])
    except InvalidSampleError as err:
        raise PoseFileError(str(err)) from None
    img_shape = ann.get('img_shape')
    return PoseSequence.from_arrays(
        ann['keypoint'], ann.get('keypoint_score'), kpt_thr,
        img_shape=None if img_shape is None else tuple(img_shape),
        source=f'{osp.basename(path)}:{frame_dir}')
