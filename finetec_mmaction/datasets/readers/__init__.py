"""Readers of the pose files users have, each into a :class:`PoseSequence`.

========================  ==============================================
input                     reader
========================  ==============================================
``*.json``                MMPose's video predictions
                          (:func:`load_mmpose_video`)
a folder of ``*.json``    MMPose's per-image predictions
                          (:func:`load_mmpose_folder`)
``*.npy`` / ``*.npz``     ``(T, V, C)`` or ``(M, T, V, C)`` arrays, NaN or
                          zeros where missing (:func:`load_numpy_poses`)
``*.pkl`` + frame_dir     one PoseDataset sample
                          (:func:`load_pose_pickle_sample`)
========================  ==============================================

:func:`read_poses` picks the reader from the path.
"""
import os.path as osp
from typing import Optional, Tuple

from .array_files import load_numpy_poses, load_pose_pickle_sample
from .mmpose_json import (instances_to_frame, load_mmpose_folder,
                          load_mmpose_video)
from .pose_sequence import (DEFAULT_KPT_THR, NoPersonError, PoseFileError,
                            PoseSequence, observed_frames)

__all__ = [
    'DEFAULT_KPT_THR', 'NoPersonError', 'PoseFileError', 'PoseSequence',
    'instances_to_frame', 'load_mmpose_folder', 'load_mmpose_video',
    'load_numpy_poses', 'load_pose_pickle_sample', 'observed_frames',
    'read_poses'
]


def read_poses(path: str,
               num_person: int = 1,
               kpt_thr: float = DEFAULT_KPT_THR,
               coord_dims: int = 2,
               frame_dir: Optional[str] = None,
               img_shape: Optional[Tuple[int, int]] = None) -> PoseSequence:
    """Read a pose file of any supported kind (see the module docstring).

    Args:
        path (str): File or folder.
        num_person (int): People kept from per-frame detections (JSON).
        kpt_thr (float): A person frame whose mean keypoint score is below
            it is missing.
        coord_dims (int): 2 or 3, the coordinates the model reads (NumPy).
        frame_dir (str, optional): The sample of a ``.pkl``.
        img_shape (tuple, optional): ``(H, W)``; overrides the file's.
    """
    if not osp.exists(path):
        raise FileNotFoundError(f'No pose file or folder at {path}.')
    if osp.isdir(path):
        seq = PoseSequence.from_pose_results(
            load_mmpose_folder(path), num_person, kpt_thr, source=path)
    elif path.lower().endswith('.json'):
        seq = PoseSequence.from_pose_results(
            load_mmpose_video(path), num_person, kpt_thr, source=path)
    elif path.lower().endswith(('.npy', '.npz')):
        seq = load_numpy_poses(path, coord_dims, kpt_thr)
    elif path.lower().endswith(('.pkl', '.pickle')):
        if frame_dir is None:
            raise ValueError(f'{path} is a PoseDataset pickle: name the sample '
                             'to read with its frame_dir (--frame-dir).')
        seq = load_pose_pickle_sample(path, frame_dir, kpt_thr)
    else:
        raise PoseFileError(
            f'{path}: unknown pose file type; expected MMPose predictions '
            '(.json or a folder of .json), NumPy (.npy, .npz) or a '
            'PoseDataset pickle (.pkl).')
    if img_shape is not None:
        seq.img_shape = tuple(int(v) for v in img_shape)
    return seq
