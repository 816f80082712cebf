"""Class names of the datasets the configs use, one name per line.

Shipped: Penn Action (``pennaction.txt``, 15 classes) and UTKinect-Action3D
(``utkinect.txt``, 10 classes), in label order. Datasets whose names are
not shipped (Gym99/Gym288, NTU) get index names (``class 0``, ...).
"""
import os.path as osp
from typing import List, Optional

__all__ = ['LABEL_MAP_DIR', 'DATASET_LABEL_MAPS', 'load_label_map',
           'label_names', 'default_label_map']

LABEL_MAP_DIR = osp.dirname(osp.abspath(__file__))

#: A word in a config's ``ann_file`` -> the shipped label map.
DATASET_LABEL_MAPS = {
    'penn_action': 'pennaction.txt',
    'pennaction': 'pennaction.txt',
    'utkinect': 'utkinect.txt',
}


def load_label_map(path: str) -> List[str]:
    """Class names of a label-map file: one per line (blank lines and a
    trailing newline ignored; ``index name`` lines as MMAction2's
    ``label_map_*.txt`` use them are fine too, the names are what follow
    the index)."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'Label map not found: {path}')
    names = []
    with open(path, encoding='utf-8') as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            head, _, rest = line.partition(' ')
            names.append(rest.strip() if head.isdigit() and rest else line)
    if not names:
        raise ValueError(f'{path}: the label map holds no class name.')
    return names


def default_label_map(ann_file: Optional[str]) -> Optional[str]:
    """The shipped label map of the dataset a config's ``ann_file`` names,
    else ``None``."""
    name = osp.basename(str(ann_file or '')).lower()
    for key, file in DATASET_LABEL_MAPS.items():
        if key in name:
            return osp.join(LABEL_MAP_DIR, file)
    return None


def label_names(num_classes: int,
                label_map: Optional[str] = None,
                ann_file: Optional[str] = None) -> List[str]:
    """``num_classes`` class names: from ``label_map``, else the shipped map
    of the ``ann_file``'s dataset, else ``class 0``, ``class 1``, ...

    Raises:
        ValueError: The label map has another number of names than the
            model has classes.
    """
    path = label_map or default_label_map(ann_file)
    if path is None:
        return [f'class {i}' for i in range(num_classes)]
    names = load_label_map(path)
    if len(names) != num_classes:
        raise ValueError(
            f'{path} names {len(names)} classes but the model has '
            f'{num_classes}: pass the label map of the dataset the '
            'checkpoint was trained on (--label-map).')
    return names
