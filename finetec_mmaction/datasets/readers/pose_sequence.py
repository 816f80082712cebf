"""The skeleton sequence of one video, as every reader returns it.

A :class:`PoseSequence` holds ``M`` tracked people over ``T`` frames with a
validity mask: a person's frame is observed, or missing (the estimator found
nobody there, or nobody it was sure of). Per-frame detections in
MMAction2's ``pose_results`` format become one with
:meth:`PoseSequence.from_pose_results` (people are followed by
:func:`finetec_mmaction.core.track_people`), and
:meth:`PoseSequence.to_annotation` turns it into the input of a test
pipeline.
"""
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from ...core.fill import fill_missing_frames
from ...core.tracking import track_people

__all__ = ['PoseFileError', 'NoPersonError', 'PoseSequence',
           'observed_frames', 'DEFAULT_KPT_THR']

#: Default least mean keypoint score of an observed person (MMPose's
#: default keypoint threshold).
DEFAULT_KPT_THR = 0.3


class PoseFileError(ValueError):
    """A pose file (or ``pose_results`` list) is malformed; the message names
    the file, the frame or sample, and the problem."""


class NoPersonError(PoseFileError):
    """No frame of the input has a person to recognise or restore."""


def observed_frames(keypoint: np.ndarray,
                    keypoint_score: Optional[np.ndarray] = None,
                    kpt_thr: float = DEFAULT_KPT_THR) -> np.ndarray:
    """Which person frames carry a pose.

    A frame is missing when any coordinate is NaN or infinite, when every
    coordinate is zero, or (with scores) when the mean keypoint score is
    below ``kpt_thr`` or zero.

    Args:
        keypoint (np.ndarray): ``(..., V, C)``.
        keypoint_score (np.ndarray, optional): ``(..., V)``.
        kpt_thr (float): Least mean keypoint score.

    Returns:
        np.ndarray: ``(...)`` bool, ``True`` where observed.
    """
    keypoint = np.asarray(keypoint, dtype=np.float64)
    finite = np.isfinite(keypoint).all((-1, -2))
    present = np.any(np.nan_to_num(keypoint) != 0, axis=(-1, -2))
    observed = finite & present
    if keypoint_score is not None:
        mean = np.nan_to_num(np.asarray(keypoint_score,
                                        dtype=np.float64)).mean(-1)
        observed &= (mean >= kpt_thr) & (mean > 0)
    return observed


@dataclass
class PoseSequence:
    """``M`` people over ``T`` frames, missing frames flagged.

    Attributes:
        keypoint (np.ndarray): ``(M, T, V, C)`` float32 coordinates (pixels
            for 2D, e.g. metres for 3D), exactly 0 where not observed.
        keypoint_score (np.ndarray | None): ``(M, T, V)`` float32, 0 where
            not observed; ``None`` for 3D data without scores.
        valid (np.ndarray): ``(M, T)`` bool, ``True`` where observed.
        img_shape (tuple[int, int] | None): ``(H, W)`` of the video, when
            the file tells it.
        source (str): Where it was read from (for messages and outputs).
    """
    keypoint: np.ndarray
    keypoint_score: Optional[np.ndarray]
    valid: np.ndarray
    img_shape: Optional[Tuple[int, int]] = None
    source: str = 'pose input'

    def __post_init__(self) -> None:
        kp = self.keypoint
        if kp.ndim != 4 or kp.shape[-1] not in (2, 3):
            raise PoseFileError(f'{self.source}: keypoints must be (M, T, V, '
                                f'C) with C 2 or 3, got shape {kp.shape}.')
        if self.valid.shape != kp.shape[:2]:
            raise PoseFileError(f'{self.source}: validity {self.valid.shape}'
                                f' does not fit keypoints {kp.shape}.')
        if self.keypoint_score is not None and \
                self.keypoint_score.shape != kp.shape[:3]:
            raise PoseFileError(
                f'{self.source}: keypoint scores {self.keypoint_score.shape} '
                f'do not fit keypoints {kp.shape}.')
        if not self.valid.any():
            raise NoPersonError(
                f'{self.source}: no person in any of its {kp.shape[1]} '
                'frames (every frame is empty or below the keypoint score '
                'threshold): there is nothing to recognise or restore.')

    # ---------------------------------------------------------- properties
    @property
    def num_person(self) -> int:
        return int(self.keypoint.shape[0])

    @property
    def num_frames(self) -> int:
        return int(self.keypoint.shape[1])

    @property
    def num_joints(self) -> int:
        return int(self.keypoint.shape[2])

    @property
    def missing_frames(self) -> np.ndarray:
        """Indices of the frames in which no tracked person is observed."""
        return np.flatnonzero(~self.valid.any(0))

    # -------------------------------------------------------- construction
    @classmethod
    def from_arrays(cls,
                    keypoint: np.ndarray,
                    keypoint_score: Optional[np.ndarray] = None,
                    kpt_thr: float = DEFAULT_KPT_THR,
                    **kwargs) -> 'PoseSequence':
        """From ``(M, T, V, C)`` keypoints (people already tracked) with NaN
        or zeros where missing, and optional ``(M, T, V)`` scores; see
        :func:`observed_frames`. Missing frames are set to zero."""
        keypoint = np.asarray(keypoint, dtype=np.float32)
        valid = observed_frames(keypoint, keypoint_score, kpt_thr)
        keypoint = np.where(valid[..., None, None],
                            np.nan_to_num(keypoint), 0).astype(np.float32)
        if keypoint_score is not None:
            keypoint_score = np.where(valid[..., None],
                                      np.nan_to_num(keypoint_score),
                                      0).astype(np.float32)
        return cls(keypoint, keypoint_score, valid, **kwargs)

    @classmethod
    def from_pose_results(cls,
                          pose_results: Sequence[Dict],
                          num_person: int = 1,
                          kpt_thr: float = DEFAULT_KPT_THR,
                          img_shape: Optional[Tuple[int, int]] = None,
                          source: str = 'pose_results') -> 'PoseSequence':
        """From MMAction2's per-frame detections, following people.

        Args:
            pose_results (Sequence[dict]): Per frame ``dict(keypoints=(N, V,
                C), keypoint_scores=(N, V))``, optionally ``bboxes`` ``(N,
                4)`` and ``bbox_scores`` ``(N,)``; ``N`` may be 0.
            num_person (int): People to keep (the most persistent tracks).
            kpt_thr (float): A detection whose mean keypoint score is
                below it is not used (its frame is missing for that person).
            img_shape (tuple, optional): ``(H, W)``.
            source (str): Names the input in messages.
        """
        frames = [_check_frame(f, t, source) for t, f in enumerate(
            _as_list(pose_results, source))]
        if not frames:
            raise NoPersonError(f'{source}: holds no frame.')
        layout = _common_layout(frames, source)
        num_joints, channels = layout
        kept, boxes, confs = [], [], []
        for kp, score, box, box_score in frames:
            keep = observed_frames(kp, score, kpt_thr) if len(kp) else \
                np.zeros(0, bool)
            kept.append((kp[keep], score[keep]))
            boxes.append(None if box is None else box[keep])
            if box_score is None:
                box_score = score.mean(-1) if score.size else np.zeros(0)
            confs.append(box_score[keep])
        tracks = track_people([kp for kp, _ in kept], boxes, confs,
                              num_person)
        shape = (max(len(tracks), 1), len(frames), num_joints)
        keypoint = np.zeros(shape + (channels, ), np.float32)
        keypoint_score = np.zeros(shape, np.float32)
        for m, row in enumerate(tracks):
            for t in np.flatnonzero(row >= 0):
                keypoint[m, t], keypoint_score[m, t] = (
                    a[row[t]] for a in kept[t])
        valid = np.zeros(shape[:2], bool)
        valid[:len(tracks)] = tracks >= 0
        return cls(keypoint, keypoint_score, valid, img_shape, source)

    # -------------------------------------------------------------- output
    def to_annotation(self,
                      img_shape: Optional[Tuple[int, int]] = None) -> Dict:
        """The sample dict a test pipeline starts from (as a PoseDataset
        annotation), with ``frame_valid`` ``(M, T)``.

        Missing frames hold a copy of the nearest observed frame of the same
        person, so that no normalisation sees a zero frame
        (``PreNormalize3D`` would delete it);
        :class:`~finetec_mmaction.datasets.transforms.ZeroFillMissingFrames`
        zero-fills them after the normalisation.
        """
        img_shape = tuple(img_shape or self.img_shape or ()) or None
        keypoint = np.stack([
            fill_missing_frames(kp, v, 'nearest', axis=0)
            for kp, v in zip(self.keypoint, self.valid)
        ])
        ann = dict(
            frame_dir=self.source,
            label=-1,
            total_frames=self.num_frames,
            start_index=0,
            modality='Pose',
            keypoint=keypoint.astype(np.float32),
            frame_valid=self.valid.copy())
        if self.keypoint_score is not None:
            ann['keypoint_score'] = np.stack([
                fill_missing_frames(s, v, 'nearest', axis=0)
                for s, v in zip(self.keypoint_score, self.valid)
            ]).astype(np.float32)
        if img_shape is not None:
            ann['img_shape'] = ann['original_shape'] = img_shape
        return ann


def _as_list(pose_results, source: str) -> List:
    if not isinstance(pose_results, (list, tuple)):
        raise PoseFileError(
            f'{source}: pose results must be a list with one entry per '
            f'frame, got {type(pose_results).__name__}.')
    return list(pose_results)


def _check_frame(frame, t: int, source: str):
    """``(keypoints (N, V, C), scores (N, V), boxes (N, 4) | None,
    box_scores (N,) | None)`` of one ``pose_results`` entry, checked."""
    where = f'{source}: frame {t}'
    if not isinstance(frame, dict) or 'keypoints' not in frame:
        raise PoseFileError(f'{where}: expected a dict with "keypoints" (N, '
                            f'V, C) and "keypoint_scores" (N, V), got '
                            f'{_describe(frame)}.')
    try:
        kp = np.asarray(frame['keypoints'], dtype=np.float32)
        score = frame.get('keypoint_scores')
        score = np.ones(kp.shape[:2], np.float32) if score is None else \
            np.asarray(score, dtype=np.float32)
        box = frame.get('bboxes')
        box = None if box is None else np.asarray(box, np.float32)
        box_score = frame.get('bbox_scores')
        box_score = None if box_score is None else np.asarray(
            box_score, np.float32).reshape(-1)
    except (TypeError, ValueError) as err:
        raise PoseFileError(f'{where}: keypoints, scores and boxes must be '
                            f'numeric arrays ({err}).') from None
    if kp.size == 0:
        kp = kp.reshape(0, 0, 2)
        score = score.reshape(0, 0)
    if kp.ndim != 3 or kp.shape[-1] not in (2, 3):
        raise PoseFileError(f'{where}: keypoints must be (N, V, 2 or 3), got '
                            f'shape {kp.shape}.')
    if score.shape != kp.shape[:2]:
        raise PoseFileError(f'{where}: keypoint_scores {score.shape} do not '
                            f'fit keypoints {kp.shape} (expected (N, V)).')
    if box is not None and box.reshape(-1).size != 4 * len(kp):
        raise PoseFileError(f'{where}: {len(kp)} people but bboxes of shape '
                            f'{box.shape} (expected (N, 4)).')
    if box_score is not None and len(box_score) != len(kp):
        raise PoseFileError(f'{where}: {len(kp)} people but '
                            f'{len(box_score)} bbox_scores.')
    if box is not None:
        box = box.reshape(-1, 4)
    return kp, score, box, box_score


def _common_layout(frames, source: str) -> Tuple[int, int]:
    """``(V, C)`` shared by every frame with a detection."""
    layout, first = None, None
    for t, (kp, *_rest) in enumerate(frames):
        if not len(kp):
            continue
        if layout is None:
            layout, first = kp.shape[1:], t
        elif kp.shape[1:] != layout:
            raise PoseFileError(
                f'{source}: frame {t} has {kp.shape[1]} keypoints of '
                f'{kp.shape[2]} values, frame {first} {layout[0]} of '
                f'{layout[1]}: every frame must use one skeleton layout.')
    if layout is None:
        raise NoPersonError(f'{source}: no person in any of its '
                            f'{len(frames)} frames (every frame has no '
                            'instance).')
    return tuple(int(d) for d in layout)


def _describe(value) -> str:
    if isinstance(value, dict):
        return f'a dict with keys {sorted(map(str, value))[:6]}'
    return f'a {type(value).__name__}'
