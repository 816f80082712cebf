"""Checks of skeleton annotations in MMAction2's PoseDataset format.

An annotation file is ``{'split': {name: [ids]}, 'annotations': [dict]}``
(or a bare list of annotation dicts). One annotation holds

    - frame_dir (str): sample id (``filename`` is accepted instead, as in
      :class:`mmaction.datasets.PoseDataset`)
    - label (int): class index
    - total_frames (int): ``T``
    - keypoint: ``(M, T, V, C)`` with ``C`` in {2, 3}
    - keypoint_score (optional): ``(M, T, V)``
    - kp_w_gt / kp_wo_gt (optional, Gym288): ``(T, V, 3)``

A bad sample otherwise surfaces deep inside a data-loader worker as a shape
error without a name (or, for NaN, as a NaN loss many iterations later).
These checks name the file, the sample index, its ``frame_dir`` and the
problem instead, and can drop bad samples when asked to. Across the samples
of a split, a ``frame_dir`` may appear once only (test-time masks and the
corruption digest are keyed on it), and coordinates far outside the
recorded space (:func:`count_far_outside`) are reported with a count.
"""
import numbers
import warnings
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

__all__ = [
    'AnnotationFormatError', 'InvalidSampleError', 'SkippedSample',
    'check_sample', 'count_far_outside', 'validate_annotations',
    'select_split'
]

#: ``(index in the file, frame_dir or None, reason)`` of a dropped sample.
SkippedSample = Tuple[int, Optional[str], str]

#: 2D keypoints are pixels of the image ``img_shape`` (h, w). One image
#: width / height beyond its border is ±3 in the coordinates of
#: ``PreNormalize2D`` (the image spans [-1, 1]): a joint detected or
#: annotated just outside the frame (Penn Action has some) lies far inside
#: this, a corrupt value (1e30, an unscaled overflow) far beyond it, and the
#: bound scales with the image instead of being a number of pixels.
FAR_OUTSIDE_IMAGE = 3.0
#: ``PreNormalize2D``'s image shape when a sample has no ``img_shape``.
DEFAULT_IMG_SHAPE = (1080, 1920)
#: 3D keypoints are metres (NTU RGB+D, Kinect: camera coordinates). Depth
#: sensors track people a few metres away and motion-capture volumes span
#: tens of metres, so no recorded joint is 100 m from the origin; corrupt
#: values are orders of magnitude beyond.
FAR_OUTSIDE_3D_METRES = 100.0


class AnnotationFormatError(ValueError):
    """The annotation file as a whole is not in PoseDataset format."""


class InvalidSampleError(ValueError):
    """One annotation is invalid; the message names file, index and
    frame_dir.

    Attributes:
        index (int): Index of the sample in the file's annotation list.
        frame_dir (str | None): Its identifier, if it has one.
        reason (str): The problem alone.
    """

    def __init__(self, ann_file: str, index: int, frame_dir: Optional[str],
                 reason: str) -> None:
        self.ann_file = ann_file
        self.index = index
        self.frame_dir = frame_dir
        self.reason = reason
        where = f'sample {index}'
        if frame_dir is not None:
            where += f" (frame_dir '{frame_dir}')"
        super().__init__(f'{ann_file}: {where}: {reason}')


def _identifier(anno: Any) -> Optional[str]:
    if not isinstance(anno, dict):
        return None
    for key in ('frame_dir', 'filename'):
        if key in anno:
            return anno[key]
    return None


def _annotation_list(data: Any, ann_file: str) -> List:
    if isinstance(data, dict):
        if 'annotations' not in data:
            raise AnnotationFormatError(
                f'{ann_file}: expected a dict with key "annotations" (and '
                f'optionally "split") or a list of annotations; got a dict '
                f'with keys {sorted(map(str, data))}.')
        data = data['annotations']
    if not isinstance(data, (list, tuple)):
        raise AnnotationFormatError(
            f'{ann_file}: the annotations must be a list of dicts, got '
            f'{type(data).__name__}.')
    return list(data)


def _is_int(value: Any) -> bool:
    return (isinstance(value, numbers.Integral)
            and not isinstance(value, (bool, np.bool_)))


def _check_array(anno: Dict, key: str) -> Optional[str]:
    value = anno[key]
    if not isinstance(value, np.ndarray):
        return f'"{key}" must be a numpy array, got {type(value).__name__}'
    if not (np.issubdtype(value.dtype, np.floating)
            or np.issubdtype(value.dtype, np.integer)):
        return f'"{key}" must be numeric, got dtype {value.dtype}'
    return None


def check_sample(anno: Any,
                 num_classes: Optional[int] = None,
                 num_joints: Optional[int] = None) -> Optional[str]:
    """Return what is wrong with one annotation, or ``None`` if it is valid.

    Args:
        anno: One annotation (see the module docstring).
        num_classes (int, optional): Labels must lie in
            ``[0, num_classes)``. Negative labels are always invalid.
        num_joints (int, optional): The expected joint count ``V``.

    Returns:
        str | None: The problem, in words.
    """
    if not isinstance(anno, dict):
        return f'annotation must be a dict, got {type(anno).__name__}'
    if _identifier(anno) is None:
        return 'missing "frame_dir" (the sample identifier)'
    if not isinstance(_identifier(anno), str):
        return (f'"frame_dir" must be a str, got '
                f'{type(_identifier(anno)).__name__}')
    missing = [k for k in ('label', 'keypoint', 'total_frames')
               if k not in anno]
    if missing:
        return 'missing key(s) ' + ', '.join(f'"{k}"' for k in missing)

    problem = _check_array(anno, 'keypoint')
    if problem:
        return problem
    kp = anno['keypoint']
    if kp.ndim != 4 or kp.shape[-1] not in (2, 3):
        return (f'"keypoint" must have shape (M, T, V, C) with C in {{2, 3}}'
                f', got shape {kp.shape}')
    num_person, num_frames, num_kp = kp.shape[:3]
    if num_person == 0 or num_frames == 0 or num_kp == 0:
        return (f'empty sequence: "keypoint" has shape {kp.shape} '
                f'(M={num_person}, T={num_frames}, V={num_kp})')
    total = anno['total_frames']
    if not _is_int(total) or total != num_frames:
        return (f'total_frames={total!r} does not match T={num_frames} of '
                f'"keypoint" {kp.shape}')
    if num_joints is not None and num_kp != num_joints:
        return (f'wrong joint count: "keypoint" has V={num_kp} joints but '
                f'the dataset has {num_joints} (shape {kp.shape})')

    if 'keypoint_score' in anno:
        problem = _check_array(anno, 'keypoint_score')
        if problem:
            return problem
        score = anno['keypoint_score']
        if score.shape != kp.shape[:3]:
            return (f'"keypoint_score" shape {score.shape} != (M, T, V) = '
                    f'{kp.shape[:3]} of "keypoint"')
    for key in ('keypoint', 'keypoint_score'):
        if key in anno and not np.isfinite(anno[key]).all():
            value = anno[key]
            kind = 'NaN' if np.isnan(value).any() else 'inf'
            frames = np.unique(np.nonzero(~np.isfinite(value))[1])
            return (f'non-finite values ({kind}) in "{key}" at frame(s) '
                    f'{frames[:5].tolist()}'
                    f'{" ..." if len(frames) > 5 else ""}')

    label = anno['label']
    if not _is_int(label):
        return (f'label must be an int, got {type(label).__name__} '
                f'{label!r}')
    if label < 0 or (num_classes is not None and label >= num_classes):
        bound = f'[0, {num_classes})' if num_classes is not None else '>= 0'
        return f'label {label} out of range {bound}'

    # Gym288 extras: per-frame (x, y, score) of the single person.
    for key in ('kp_w_gt', 'kp_wo_gt'):
        if key not in anno:
            continue
        problem = _check_array(anno, key)
        if problem:
            return problem
        extra = anno[key]
        if extra.ndim < 2 or extra.shape[:2] != (num_frames, num_kp):
            return (f'"{key}" shape {extra.shape} does not start with '
                    f'(T, V) = {(num_frames, num_kp)}')
    return None


def count_far_outside(anno: Dict) -> Tuple[int, float, str]:
    """Coordinate values of a (valid) annotation far outside the space it
    was recorded in: for 2D, more than one image size beyond the border of
    ``img_shape`` (:data:`FAR_OUTSIDE_IMAGE`); for 3D, more than
    :data:`FAR_OUTSIDE_3D_METRES` from the origin.

    Returns:
        tuple: The number of such values, the largest absolute coordinate,
        and the bound in words.
    """
    kp = np.asarray(anno['keypoint'], dtype=np.float64)
    if kp.shape[-1] == 2:
        shape = anno.get('img_shape')
        try:
            h, w = (float(v) for v in shape)
            assert h > 0 and w > 0
        except Exception:  # absent or malformed: PreNormalize2D's default
            h, w = DEFAULT_IMG_SHAPE
        half = np.array([w, h]) / 2
        far = np.abs((kp - half) / half) > FAR_OUTSIDE_IMAGE
        bound = (f'more than one image size beyond the {int(w)}x{int(h)} '
                 'image (img_shape)')
    else:
        far = np.abs(kp) > FAR_OUTSIDE_3D_METRES
        bound = f'more than {FAR_OUTSIDE_3D_METRES:g} m from the origin'
    return int(far.sum()), float(np.abs(kp).max(initial=0)), bound


def validate_annotations(
        data: Union[Dict, Sequence[Dict]],
        ann_file: str,
        num_classes: Optional[int] = None,
        skip_invalid: bool = False,
        indices: Optional[Sequence[int]] = None
) -> Tuple[List[Dict], List[SkippedSample]]:
    """Check every annotation; raise on the first bad one or drop bad ones.

    The joint count ``V`` of the first valid sample is the dataset's; any
    other count is a wrong joint count.

    Args:
        data (dict | list[dict]): A loaded annotation file or a list of
            annotations (e.g. one split from :func:`select_split`).
        ann_file (str): File name used in messages.
        num_classes (int, optional): Number of classes; labels must lie in
            ``[0, num_classes)``.
        skip_invalid (bool): Drop invalid samples instead of raising.
        indices (Sequence[int], optional): Index in the file of each
            annotation in ``data`` (so messages point into the file even
            after split selection). Defaults to the position in ``data``.

    A ``frame_dir`` that an earlier valid sample has is invalid (the error
    names both samples). Samples with coordinates far outside their space
    (:func:`count_far_outside`) are kept with a warning that counts them,
    or dropped with ``skip_invalid``.

    Returns:
        tuple[list[dict], list[tuple[int, str | None, str]]]: The valid
        annotations (same objects, same order) and the skipped samples as
        ``(index, frame_dir, reason)``; the latter is empty unless
        ``skip_invalid``.

    Raises:
        InvalidSampleError: A bad sample when ``skip_invalid`` is False.
        AnnotationFormatError: ``data`` is not in PoseDataset format.
    """
    annos = _annotation_list(data, ann_file)
    if indices is None:
        indices = range(len(annos))
    elif len(indices) != len(annos):
        raise ValueError(f'{len(indices)} indices for {len(annos)} '
                         f'annotations.')
    if num_classes is not None and (not _is_int(num_classes)
                                    or num_classes <= 0):
        raise ValueError(f'num_classes must be a positive int, got '
                         f'{num_classes!r}.')

    valid, skipped, far_outside = [], [], []
    num_joints = None
    first_index = {}  # frame_dir -> index of its first valid sample
    for index, anno in zip(indices, annos):
        reason = check_sample(anno, num_classes, num_joints)
        frame_dir = _identifier(anno)
        if reason is None and frame_dir in first_index:
            reason = (f'duplicate frame_dir: sample {first_index[frame_dir]} '
                      'has the same one (test-time masks and the corruption '
                      'digest are keyed on frame_dir, so every sample needs '
                      'its own)')
        if reason is None:
            count, largest, bound = count_far_outside(anno)
            if count and skip_invalid:
                reason = (f'{count} coordinate value(s) {bound} (largest '
                          f'|value| {largest:.3g})')
            elif count:
                far_outside.append((index, frame_dir, count, largest, bound))
        if reason is None:
            valid.append(anno)
            first_index[frame_dir] = index
            if num_joints is None:
                num_joints = anno['keypoint'].shape[2]
            continue
        if not skip_invalid:
            raise InvalidSampleError(ann_file, index, frame_dir, reason)
        skipped.append((index, frame_dir, reason))
    if far_outside:
        index, frame_dir, count, largest, bound = far_outside[0]
        warnings.warn(
            f'{ann_file}: {len(far_outside)} of {len(annos)} samples have '
            f'coordinates far outside their space '
            f'({sum(f[2] for f in far_outside)} values in all; e.g. sample '
            f"{index} (frame_dir '{frame_dir}'): {count} value(s) {bound}, "
            f'largest |value| {largest:.3g}). They are kept; '
            'skip_invalid=True drops them.',
            stacklevel=2)
    return valid, skipped


def select_split(data: Union[Dict, Sequence[Dict]],
                 split: Union[None, str, Dict],
                 ann_file: str) -> Tuple[List[Dict], List[int]]:
    """Pick the annotations of one split, as PoseDataset does.

    A sample without an identifier cannot be placed in a split; it is kept
    so that :func:`validate_annotations` reports (or skips) it instead of
    losing it silently.

    Args:
        data (dict | list[dict]): A loaded annotation file.
        split (str | dict, optional): Split name; ``None`` selects
            everything; a dict is a part of a split carved by class
            (:mod:`finetec_mmaction.datasets.splits`).
        ann_file (str): File name used in messages.

    Returns:
        tuple[list[dict], list[int]]: The selected annotations and their
        indices in the file's annotation list.

    Raises:
        KeyError: Unknown split (the message lists the available ones).
        AnnotationFormatError: ``split`` is given but ``data`` has no
            ``'split'`` table, or the table is malformed.
    """
    if isinstance(split, dict):  # a holdout split
        from .splits import select_holdout_split
        return select_holdout_split(data, split, ann_file)
    annos = _annotation_list(data, ann_file)
    if split is None:
        return annos, list(range(len(annos)))
    if not isinstance(data, dict) or 'split' not in data:
        what = ('a bare list of annotations' if not isinstance(data, dict)
                else 'a dict without a "split" key')
        raise AnnotationFormatError(
            f'{ann_file}: split={split!r} was requested but the file has no '
            f'"split" table (it is {what}); use split=None to load every '
            f'sample.')
    splits = data['split']
    if not isinstance(splits, dict):
        raise AnnotationFormatError(
            f'{ann_file}: "split" must map split names to lists of ids, got '
            f'{type(splits).__name__}.')
    if split not in splits:
        raise KeyError(f'{ann_file}: unknown split {split!r}; available '
                       f'splits: {sorted(map(str, splits))}.')

    # dict, not set: keeps the file's order for the warning below.
    wanted = dict.fromkeys(splits[split])
    selected, indices, found = [], [], set()
    for index, anno in enumerate(annos):
        ident = _identifier(anno)
        try:
            hit = ident is not None and ident in wanted
            unplaceable = ident is None
        except TypeError:  # an unhashable id: validation reports it
            hit, unplaceable = False, True
        if hit:
            found.add(ident)
        if hit or unplaceable:
            selected.append(anno)
            indices.append(index)
    unmatched = [i for i in wanted if i not in found]
    if unmatched:
        warnings.warn(
            f'{ann_file}: {len(unmatched)} of {len(wanted)} ids of split '
            f'{split!r} match no annotation (e.g. {unmatched[:3]}).',
            stacklevel=2)
    return selected, indices
