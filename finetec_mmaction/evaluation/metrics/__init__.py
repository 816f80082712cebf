from .completion_metric import (BASELINES, CompletionMetric, baseline_fill,
                                restoration_errors, summarize_errors)

__all__ = [
    'BASELINES', 'CompletionMetric', 'baseline_fill', 'restoration_errors',
    'summarize_errors'
]
