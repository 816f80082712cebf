"""Speed of FineTec stage 2 beside a stock ST-GCN++ on the same batches."""
from .batch import synthetic_batch
from .benchmark import (DEFAULT_BASELINE_CONFIG, DEFAULT_FINETEC_CONFIG,
                        run_speed_benchmark)
from .breakdown import module_breakdown
from .memory import cpu_peak_memory
from .report import format_speed
from .stepper import MODES, StepTimer, build_model, num_params, state_bytes

__all__ = [
    'DEFAULT_BASELINE_CONFIG', 'DEFAULT_FINETEC_CONFIG', 'MODES', 'StepTimer',
    'build_model', 'cpu_peak_memory', 'format_speed', 'module_breakdown',
    'num_params', 'run_speed_benchmark', 'state_bytes', 'synthetic_batch'
]
