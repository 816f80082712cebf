"""Readers of the prediction files that MMPose's inferencer writes.

For a video, ``MMPoseInferencer(...)(video, pred_out_dir=DIR)`` writes
``DIR/<video>.json``::

    [{"frame_id": 0,
      "instances": [{"keypoints": [[x, y], ...],        # V joints (x, y[, z])
                     "keypoint_scores": [s, ...],        # V scores
                     "bbox": [[x1, y1, x2, y2]],
                     "bbox_score": s}, ...]},
     {"frame_id": 1, "instances": []},                   # nobody found
     ...]

(the instances are ``mmpose.structures.split_instances``, which writes the
box as a one-element list); for images it writes one file per image that
holds the ``instances`` list alone. Both become MMAction2's
``pose_results``: a list per frame of ``dict(keypoints=(N, V, C),
keypoint_scores=(N, V), bboxes=(N, 4), bbox_scores=(N,))``.
"""
import json
import os
import os.path as osp
import re
from typing import Dict, List

import numpy as np

from .pose_sequence import PoseFileError

__all__ = ['load_mmpose_video', 'load_mmpose_folder', 'instances_to_frame']


def _read_json(path: str):
    try:
        with open(path, encoding='utf-8') as f:
            return json.load(f)
    except json.JSONDecodeError as err:
        raise PoseFileError(
            f'{path}: not valid JSON ({err.msg} at line {err.lineno}, column '
            f'{err.colno}); is the file complete?') from None
    except UnicodeDecodeError as err:
        raise PoseFileError(f'{path}: not a text (JSON) file ({err}).') \
            from None


def _numbers(value, shape_hint: str, where: str) -> np.ndarray:
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise PoseFileError(f'{where}: expected numbers {shape_hint}, got '
                            f'{str(value)[:80]}.') from None
    if not np.isfinite(array).all():
        raise PoseFileError(f'{where}: non-finite values (NaN or inf) in '
                            f'{shape_hint}.')
    return array


def instances_to_frame(instances, where: str) -> Dict:
    """One frame of ``pose_results`` from MMPose's ``instances`` list (see
    the module docstring); ``where`` names it in messages."""
    if not isinstance(instances, list):
        raise PoseFileError(f'{where}: "instances" must be a list, got '
                            f'{type(instances).__name__}.')
    keypoints, scores, boxes, box_scores = [], [], [], []
    for i, inst in enumerate(instances):
        at = f'{where}, instance {i}'
        if not isinstance(inst, dict) or 'keypoints' not in inst or \
                'keypoint_scores' not in inst:
            keys = sorted(inst) if isinstance(inst, dict) else \
                type(inst).__name__
            raise PoseFileError(f'{at}: an instance needs "keypoints" and '
                                f'"keypoint_scores" (MMPose format), got '
                                f'{keys}.')
        kp = _numbers(inst['keypoints'], '"keypoints" [[x, y], ...]', at)
        if kp.ndim != 2 or kp.shape[1] not in (2, 3):
            raise PoseFileError(f'{at}: "keypoints" must be a list of [x, y] '
                                f'(or [x, y, z]) pairs, got shape {kp.shape}.')
        score = _numbers(inst['keypoint_scores'], '"keypoint_scores"', at)
        if score.shape != (len(kp), ):
            raise PoseFileError(f'{at}: {len(kp)} keypoints but '
                                f'"keypoint_scores" of shape {score.shape}.')
        if keypoints and kp.shape != keypoints[0].shape:
            raise PoseFileError(f'{at}: {len(kp)} keypoints of {kp.shape[1]} '
                                f'values, instance 0 has '
                                f'{keypoints[0].shape[0]} of '
                                f'{keypoints[0].shape[1]}.')
        keypoints.append(kp)
        scores.append(score)
        if 'bbox' in inst:
            box = _numbers(inst['bbox'], '"bbox" [[x1, y1, x2, y2]]', at)
            if box.size != 4:
                raise PoseFileError(f'{at}: "bbox" must hold 4 numbers [[x1, '
                                    f'y1, x2, y2]], got {box.size}.')
            boxes.append(box.reshape(4))
        if 'bbox_score' in inst:
            box_score = _numbers(inst['bbox_score'], '"bbox_score"', at)
            box_scores.append(float(box_score.reshape(-1)[0]))
    frame = dict(
        keypoints=np.array(keypoints, np.float32).reshape(
            (len(keypoints), ) + (keypoints[0].shape if keypoints else
                                  (0, 2))),
        keypoint_scores=np.array(scores, np.float32).reshape(
            len(scores), -1 if scores else 0))
    # boxes only when every instance has one (else: boxes from keypoints)
    if boxes and len(boxes) == len(keypoints):
        frame['bboxes'] = np.array(boxes, np.float32)
    if box_scores and len(box_scores) == len(keypoints):
        frame['bbox_scores'] = np.array(box_scores, np.float32)
    return frame


def load_mmpose_video(path: str) -> List[Dict]:
    """``pose_results`` of MMPose's prediction file for a video.

    Frames are ordered by ``frame_id``; a ``frame_id`` that the file skips
    is a frame with nobody in it (as ``"instances": []``).

    Raises:
        PoseFileError: The file is not valid JSON or not in this format
            (the message names the entry and the problem).
    """
    data = _read_json(path)
    if isinstance(data, list) and data and isinstance(data[0], dict) and \
            'keypoints' in data[0]:
        raise PoseFileError(
            f'{path}: this is MMPose\'s prediction for one image (a list of '
            'instances); pass the folder of per-image files, or the file '
            'MMPose writes for a video.')
    if not isinstance(data, list):
        what = f'a dict with keys {sorted(data)[:6]}' if isinstance(
            data, dict) else type(data).__name__
        raise PoseFileError(
            f'{path}: expected MMPose\'s video predictions, a list of '
            f'{{"frame_id": i, "instances": [...]}}, got {what}.')
    frames = {}
    for i, entry in enumerate(data):
        where = f'{path}: entry {i}'
        if not isinstance(entry, dict) or 'instances' not in entry or \
                'frame_id' not in entry:
            raise PoseFileError(f'{where}: expected {{"frame_id": i, '
                                f'"instances": [...]}}, got '
                                f'{str(entry)[:80]}.')
        frame_id = entry['frame_id']
        if isinstance(frame_id, bool) or not isinstance(frame_id, int) or \
                frame_id < 0:
            raise PoseFileError(f'{where}: "frame_id" must be an int >= 0, '
                                f'got {frame_id!r}.')
        if frame_id in frames:
            raise PoseFileError(f'{where}: frame_id {frame_id} appears '
                                'twice.')
        frames[frame_id] = instances_to_frame(
            entry['instances'], f'{path}: frame_id {frame_id}')
    if not frames:
        raise PoseFileError(f'{path}: holds no frame.')
    empty = dict(keypoints=np.zeros((0, 0, 2), np.float32),
                 keypoint_scores=np.zeros((0, 0), np.float32))
    return [frames.get(t, empty) for t in range(max(frames) + 1)]


def _natural_key(name: str):
    # frame_2.json before frame_10.json
    return [int(part) if part.isdigit() else part
            for part in re.split(r'(\d+)', name)]


def load_mmpose_folder(folder: str) -> List[Dict]:
    """``pose_results`` of a folder of MMPose's per-image prediction files
    (``*.json``, one frame each, in natural order of their names: frame_2
    before frame_10). A file may hold the ``instances`` list or a dict with
    ``"instances"``."""
    names = sorted((n for n in os.listdir(folder)
                    if n.lower().endswith('.json')), key=_natural_key)
    if not names:
        raise PoseFileError(f'{folder}: no *.json prediction file in this '
                            'folder.')
    frames = []
    for name in names:
        path = osp.join(folder, name)
        data = _read_json(path)
        if isinstance(data, dict) and 'instances' in data:
            data = data['instances']
        frames.append(instances_to_frame(data, path))
    return frames

