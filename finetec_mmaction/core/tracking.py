"""Following people across the frames of per-frame pose detections.

A pose estimator lists the people of each frame in no particular order;
taking "the i-th detection of each frame" (what MMAction2's skeleton demo
does) swaps people whenever the order changes. :func:`track_people` links
detections frame to frame instead and keeps the most persistent people.

Matching: each track predicts its box and keypoints in the next frame from
its last two observations (constant velocity; or it stopped where it was
last seen), and a detection's similarity to a track is the mean of the box
IoU and an OKS-like pose similarity with the better of those predictions; tracks and detections are paired by the Hungarian
algorithm (``scipy.optimize.linear_sum_assignment``) over pairs above
``min_similarity``. The prediction is what keeps two people who cross on
their own tracks: at the crossing their boxes overlap, but each track still
expects its person further along their own path.

Framework-free numpy; shapes use ``N`` detections, ``V`` joints, ``C``
channels.
"""
from dataclasses import dataclass, field
from typing import List, Optional, Sequence

import numpy as np
from scipy.optimize import linear_sum_assignment

__all__ = ['box_iou', 'boxes_from_keypoints', 'pose_similarity',
           'track_people']


def boxes_from_keypoints(keypoints: np.ndarray) -> np.ndarray:
    """``(N, 4)`` ``x1, y1, x2, y2`` boxes around ``(N, V, C)`` keypoints
    (first two channels)."""
    xy = np.asarray(keypoints, dtype=np.float64)[..., :2]
    return np.concatenate([xy.min(-2), xy.max(-2)], -1)


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``(A, B)`` intersection over union of ``(A, 4)`` and ``(B, 4)``
    ``x1, y1, x2, y2`` boxes (0 where both are empty)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    low = np.maximum(a[:, None, :2], b[None, :, :2])
    high = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.clip(high - low, 0, None).prod(-1)
    area_a = np.clip(a[:, 2:] - a[:, :2], 0, None).prod(-1)
    area_b = np.clip(b[:, 2:] - b[:, :2], 0, None).prod(-1)
    union = area_a[:, None] + area_b[None] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)


def pose_similarity(a: np.ndarray, b: np.ndarray,
                    scale: np.ndarray) -> np.ndarray:
    """``(A, B)`` OKS-like similarity in ``[0, 1]`` of ``(A, V, C)`` and
    ``(B, V, C)`` poses: ``mean_v exp(-d_v^2 / (2 (0.1 s)^2))`` with ``d_v``
    the joint distance and ``s`` ``(A,)`` the size (box diagonal) of ``a``."""
    dist2 = ((np.asarray(a, np.float64)[:, None] -
              np.asarray(b, np.float64)[None])**2).sum(-1)  # (A, B, V)
    sigma2 = (0.1 * np.maximum(np.asarray(scale, np.float64), 1e-6))**2
    return np.exp(-dist2 / (2 * sigma2[:, None, None])).mean(-1)


@dataclass
class _Track:
    frames: List[int] = field(default_factory=list)
    detections: List[int] = field(default_factory=list)
    boxes: List[np.ndarray] = field(default_factory=list)
    poses: List[np.ndarray] = field(default_factory=list)
    score: float = 0.0

    def predict(self, frame: int):
        """Box and pose expected at ``frame``: where the track went on at
        its last velocity, and where it was last seen (it may have
        stopped)."""
        box, pose = self.boxes[-1], self.poses[-1]
        if len(self.frames) < 2:
            return [(box, pose)]
        step = (frame - self.frames[-1]) / (self.frames[-1] -
                                           self.frames[-2])
        moved = (box + (box - self.boxes[-2]) * step,
                 pose + (pose - self.poses[-2]) * step)
        return [moved, (box, pose)]


def _similarity(tracks: List['_Track'], frame: int, box: np.ndarray,
                pose: np.ndarray) -> np.ndarray:
    """``(tracks, detections)``: the mean of box IoU and pose similarity to
    the better of each track's predictions."""
    best = np.zeros((len(tracks), len(box)))
    for k in range(2):
        rows = [tr.predict(frame) for tr in tracks]
        rows = [r[min(k, len(r) - 1)] for r in rows]
        pred_box = np.stack([r[0] for r in rows])
        pred_pose = np.stack([r[1] for r in rows])
        size = np.hypot(pred_box[:, 2] - pred_box[:, 0],
                        pred_box[:, 3] - pred_box[:, 1])
        sim = 0.5 * box_iou(pred_box, box) + \
            0.5 * pose_similarity(pred_pose, pose[..., :2], size)
        best = np.maximum(best, sim)
    return best


def track_people(keypoints: Sequence[np.ndarray],
                 boxes: Optional[Sequence[Optional[np.ndarray]]] = None,
                 scores: Optional[Sequence[np.ndarray]] = None,
                 num_person: int = 1,
                 max_gap: int = 30,
                 min_similarity: float = 0.1) -> np.ndarray:
    """Link per-frame detections into tracks; keep the most persistent.

    Args:
        keypoints (Sequence[np.ndarray]): Per frame ``(N_t, V, C)``
            detections (``N_t`` may be 0); the first two channels are
            image (or ground-plane) coordinates.
        boxes (Sequence[np.ndarray | None], optional): Per frame ``(N_t, 4)``
            ``x1, y1, x2, y2`` boxes; ``None`` (for all frames or one) uses
            the box around the keypoints.
        scores (Sequence[np.ndarray], optional): Per frame ``(N_t,)``
            detection confidences; break ties between equally persistent
            tracks.
        num_person (int): Tracks to keep.
        max_gap (int): A track not seen for more than this many frames is
            closed; a person who comes back later starts a new track.
        min_similarity (float): Least similarity (mean of box IoU and pose
            similarity) for a detection to continue a track.

    Returns:
        np.ndarray: ``(M, T)`` int, ``M <= num_person``: the detection index
        of track ``m`` in frame ``t``, -1 where the person is not seen.
        Tracks are ordered by the number of frames they cover (then by
        their summed confidence).
    """
    if num_person < 1:
        raise ValueError(f'num_person must be >= 1, got {num_person}.')
    num_frames = len(keypoints)
    finished: List[_Track] = []
    active: List[_Track] = []
    for t in range(num_frames):
        kp = np.asarray(keypoints[t], np.float64)
        if kp.size == 0:
            kp = kp.reshape(0, 1, 2)
        box = None if boxes is None or boxes[t] is None else np.asarray(
            boxes[t], np.float64).reshape(-1, 4)
        if box is None or len(box) != len(kp):
            box = boxes_from_keypoints(kp)
        conf = np.ones(len(kp)) if scores is None else np.asarray(
            scores[t], np.float64).reshape(-1)
        # close tracks unseen for too long
        finished += [tr for tr in active if t - tr.frames[-1] > max_gap]
        active = [tr for tr in active if t - tr.frames[-1] <= max_gap]
        matched = set()
        if active and len(kp):
            sim = _similarity(active, t, box, kp)
            rows, cols = linear_sum_assignment(-sim)
            for r, c in zip(rows, cols):
                if sim[r, c] >= min_similarity:
                    _extend(active[r], t, c, box[c], kp[c], conf[c])
                    matched.add(c)
        for c in range(len(kp)):
            if c not in matched:
                track = _Track()
                _extend(track, t, c, box[c], kp[c], conf[c])
                active.append(track)
    tracks = finished + active
    tracks.sort(key=lambda tr: (-len(tr.frames), -tr.score, tr.frames[0]))
    out = np.full((min(num_person, len(tracks)), num_frames), -1, np.int64)
    for m, tr in enumerate(tracks[:num_person]):
        out[m, tr.frames] = tr.detections
    return out


def _extend(track: _Track, frame: int, index: int, box: np.ndarray,
            pose: np.ndarray, conf: float) -> None:
    track.frames.append(frame)
    track.detections.append(index)
    track.boxes.append(box)
    track.poses.append(pose[..., :2])
    track.score += float(conf)
