"""Evaluation: the registered :class:`CompletionMetric` (``metrics``), the
statistics of multi-seed comparisons (``statistics``), and, imported
explicitly, the benchmarks run outside the Runner -- ``restoration`` (fills
vs the completion network), ``corruption_sweep`` (accuracy vs missing
ratio) and ``speed`` (FineTec vs ST-GCN++ steps)."""
from . import metrics
from .metrics import *  # noqa: F401,F403
from .statistics import (class_means, mean_ci, paired_bootstrap,
                         ratio_bootstrap)

__all__ = metrics.__all__ + [
    'class_means', 'mean_ci', 'paired_bootstrap', 'ratio_bootstrap'
]
