"""Classification accuracy of batches of scores, as MMAction2's
``AccMetric`` computes it."""
from typing import Dict, List, Sequence

import numpy as np


def accuracy_summary(scores: List[np.ndarray], labels: List[np.ndarray],
                     topk: Sequence[int] = (1, )) -> Dict:
    """``top{k}`` for each ``k`` in ``topk``, ``mean_class_acc`` and
    ``num_samples`` of batches of class scores ``(N, num_classes)`` and
    labels ``(N,)``."""
    from mmaction.evaluation.functional import (mean_class_accuracy,
                                                top_k_accuracy)
    scores = np.concatenate(scores)
    labels = np.concatenate(labels)
    accs = top_k_accuracy(list(scores), list(labels), tuple(topk))
    result = {f'top{k}': float(a) for k, a in zip(topk, accs)}
    result.update(
        mean_class_acc=float(mean_class_accuracy(list(scores), list(labels))),
        num_samples=int(len(labels)))
    return result
