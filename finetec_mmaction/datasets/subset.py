"""Picking samples of a built dataset: an even subset, some classes, one
by name."""
from typing import Optional, Sequence

import numpy as np


def subset_evenly(dataset, max_samples: Optional[int] = None):
    """Keep ``max_samples`` samples of a built dataset, spread evenly over
    it (a split is often ordered by class); all of them for ``None``.
    In place; returns the dataset."""
    if max_samples is not None and max_samples < len(dataset):
        if max_samples < 1:
            raise ValueError(f'max_samples must be >= 1, got {max_samples}.')
        index = np.unique(
            np.linspace(0, len(dataset) - 1, max_samples).round().astype(int))
        dataset.get_subset_(index.tolist())
    return dataset


def subset_classes(dataset, classes: Optional[Sequence[int]] = None):
    """Keep the samples of a built dataset whose label is in ``classes``
    (all of them for ``None``). In place; returns the dataset."""
    if classes is not None:
        keep = {int(c) for c in classes}
        index = [i for i in range(len(dataset))
                 if int(dataset.get_data_info(i)['label']) in keep]
        if not index:
            raise ValueError(f'{dataset.ann_file}: no sample of the classes '
                             f'{sorted(keep)}.')
        dataset.get_subset_(index)
    return dataset


def find_sample(dataset, sample) -> int:
    """Index of a sample given by ``frame_dir`` or by its index."""
    names = [dataset.get_data_info(i).get('frame_dir')
             for i in range(len(dataset))]
    if str(sample) in names:
        return names.index(str(sample))
    try:
        index = int(sample)
    except ValueError:
        raise KeyError(f'No sample with frame_dir {sample!r} in '
                       f'{dataset.ann_file} (e.g. {names[:3]}); pass a '
                       'frame_dir or an index.') from None
    if not -len(names) <= index < len(names):
        raise IndexError(f'Sample index {index} out of range: the split has '
                         f'{len(names)} samples.')
    return index % len(names)
