"""PoseDataset with restricted pickle loading and annotation checks."""
import os.path as osp
from typing import Callable, Dict, List, Optional, Union

import numpy as np
from mmengine.logging import MMLogger

from mmaction.datasets import PoseDataset
from mmaction.registry import DATASETS
from .safe_pickle import safe_load_pickle
from .validation import select_split, validate_annotations

#: Skipped samples whose reasons are spelled out in the log.
_NUM_REASONS_LOGGED = 5


@DATASETS.register_module()
class SafePoseDataset(PoseDataset):
    """:class:`mmaction.datasets.PoseDataset` that loads annotation pickles
    safely and checks every sample before training starts.

    Differences from ``PoseDataset``:

    - the pickle is read with :func:`safe_load_pickle` (numpy arrays and
      plain containers only; a file that would run code is refused);
    - the split is resolved by :func:`select_split` (an unknown split name
      is an error listing the available ones);
    - every sample is checked by :func:`validate_annotations` (shapes
      ``keypoint (M, T, V, C)`` / ``keypoint_score (M, T, V)``,
      ``total_frames == T``, finite values, label range, one joint count);
      a bad sample raises an error naming file, index and ``frame_dir``, or
      is dropped and logged with ``skip_invalid=True``;
    - a split left without samples (none in the file, all invalid, or all
      below ``valid_ratio``) is an error naming file and split, not numpy's
      "need at least one array to concatenate";
    - :meth:`get_data_info` casts float16 ``keypoint`` / ``keypoint_score``
      (as stored by Gym288-skeleton) to float32, since ``PreNormalize2D``
      and the later transforms compute in place in the input dtype.

    Works for Gym288/Gym99 (1 person, COCO-17, 2D), NTU 2D (COCO-17, up to
    2 persons), NTU 3D (25 joints, ``C=3``, no ``keypoint_score``) and Penn
    Action (COCO-17, 2D).

    Args:
        ann_file (str): Path to the annotation pickle.
        pipeline (list[dict | callable]): Data transforms.
        split (str | dict, optional): Split to load (e.g. ``'train'``,
            ``'test'``, ``'xsub_train'``); ``None`` loads every sample; a
            part of a split carved by class for validation, e.g.
            ``dict(split='train', holdout=0.15, seed=0, subset='holdout')``
            (:mod:`finetec_mmaction.datasets.splits`).
        num_classes (int, optional): Number of classes; labels outside
            ``[0, num_classes)`` are invalid. Also forwarded to
            :class:`BaseActionDataset`.
        skip_invalid (bool): Drop invalid samples (logged as a count plus
            the first reasons) instead of raising. Defaults to False.
        **kwargs: Other arguments of :class:`PoseDataset`
            (``valid_ratio``, ``box_thr``, ``data_prefix``, ``test_mode``...).
    """

    def __init__(self,
                 ann_file: str,
                 pipeline: List[Union[Dict, Callable]],
                 split: Optional[str] = None,
                 num_classes: Optional[int] = None,
                 skip_invalid: bool = False,
                 **kwargs) -> None:
        self.skip_invalid = skip_invalid
        self.skipped_samples = []
        # for the message of an empty split (see filter_data)
        self._num_selected, self._num_split_ids = 0, None
        super().__init__(
            ann_file,
            pipeline=pipeline,
            split=split,
            num_classes=num_classes,
            **kwargs)

    def load_data_list(self) -> List[Dict]:
        """Load, split and check the annotation file."""
        if not self.ann_file.endswith('.pkl'):
            raise ValueError(f'SafePoseDataset reads pickle annotation files '
                             f'(*.pkl), got {self.ann_file}.')
        data = safe_load_pickle(self.ann_file)
        annos, indices = select_split(data, self.split, self.ann_file)
        self._num_selected = len(annos)
        if self.split is not None:
            # a carved part (a dict) lists the ids of the split it is cut from
            listed = self.split['split'] if isinstance(self.split, dict) \
                else self.split
            self._num_split_ids = len(data['split'][listed])
        data_list, skipped = validate_annotations(
            annos,
            self.ann_file,
            num_classes=self.num_classes,
            skip_invalid=self.skip_invalid,
            indices=indices)
        self.skipped_samples = skipped
        if skipped:
            reasons = '; '.join(
                f'sample {index} ({frame_dir}): {reason}'
                for index, frame_dir, reason in skipped[:_NUM_REASONS_LOGGED])
            more = len(skipped) - _NUM_REASONS_LOGGED
            MMLogger.get_current_instance().warning(
                f'{self.ann_file}: skipped {len(skipped)} invalid of '
                f'{len(annos)} samples (split={self.split!r}): {reasons}'
                f'{f"; and {more} more" if more > 0 else ""}')

        # Same prefixing as PoseDataset (e.g. to load videos by frame_dir).
        if 'video' in self.data_prefix:
            for item in data_list:
                if 'filename' in item:
                    item['filename'] = osp.join(self.data_prefix['video'],
                                                item['filename'])
                if 'frame_dir' in item:
                    item['frame_dir'] = osp.join(self.data_prefix['video'],
                                                 item['frame_dir'])
        return data_list

    def filter_data(self) -> List[Dict]:
        """PoseDataset's filter (``valid_ratio``), then refuse an empty
        result with its reason (mmengine would fail serialising it)."""
        data_list = super().filter_data()
        if data_list:
            return data_list
        where = (f'split {self.split!r}' if self.split is not None else
                 'the file')
        if self._num_selected == 0:
            ids = self._num_split_ids
            why = ('the file has no annotations' if ids is None else
                   'the "split" table lists no ids for it' if ids == 0 else
                   f'none of its {ids} ids matches an annotation\'s '
                   'frame_dir')
        elif self.skipped_samples:
            index, frame_dir, reason = self.skipped_samples[0]
            why = (f'all {self._num_selected} samples are invalid and were '
                   f'skipped (skip_invalid=True), e.g. sample {index} '
                   f'({frame_dir}): {reason}')
        else:
            why = (f'PoseDataset removed all {self._num_selected} samples '
                   f'(valid_ratio={self.valid_ratio}, box_thr='
                   f'{self.box_thr})')
        raise ValueError(f'{self.ann_file}: {where} has no samples: {why}.')

    def get_data_info(self, idx: int) -> Dict:
        """Get annotation by index, with float16 arrays cast to float32."""
        data_info = super().get_data_info(idx)
        for key in ('keypoint', 'keypoint_score'):
            value = data_info.get(key)
            if isinstance(value, np.ndarray) and value.dtype == np.float16:
                data_info[key] = value.astype(np.float32)
        return data_info
