"""Restoration benchmark: the stage-1 completion network beside the
classical fills at every missing ratio × strategy, optionally with a
clean-trained classifier behind each restoration."""
from .bank_modes import BANK_MODES, apply_bank_mode, apply_holdout
from .benchmark import (ERROR_NAMES, METHOD_LABELS, METHODS, classify,
                        load_classifier, restore_batch, run_benchmark,
                        score_restoration, setting_name, share_worse)
from .data import (build_eval_dataset, corruption_pipeline, iter_batches,
                   load_sample, set_corruption)
from .report import CSV_FIELDS, format_tables, results_to_rows, write_results
from .spec import (NORMALIZE_TYPES, EvalSpec, check_classifier_config,
                   eval_spec_from_config)

__all__ = [
    'BANK_MODES', 'CSV_FIELDS', 'ERROR_NAMES', 'apply_bank_mode',
    'apply_holdout',
    'share_worse', 'METHODS', 'METHOD_LABELS',
    'NORMALIZE_TYPES', 'EvalSpec', 'build_eval_dataset',
    'check_classifier_config', 'classify', 'corruption_pipeline',
    'eval_spec_from_config', 'format_tables', 'iter_batches',
    'load_classifier', 'load_sample', 'restore_batch', 'results_to_rows',
    'run_benchmark', 'score_restoration', 'set_corruption', 'setting_name',
    'write_results'
]
