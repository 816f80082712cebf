"""Evaluation: the registered :class:`CompletionMetric` (``metrics``), and,
imported explicitly, the benchmarks run outside the Runner --
``restoration`` (fills vs the completion network), ``corruption_sweep``
(accuracy vs missing ratio) and ``speed`` (FineTec vs ST-GCN++ steps)."""
from .metrics import *  # noqa: F401,F403
