from . import metrics
from .metrics import *  # noqa: F401,F403
from .statistics import class_means, mean_ci, paired_bootstrap

__all__ = metrics.__all__ + ['class_means', 'mean_ci', 'paired_bootstrap']
