"""Programmatic entry points behind the analysis tools (not imported by
``import finetec_mmaction``; import them explicitly)."""
from .completion_eval import (METHOD_LABELS, METHODS, EvalSpec,
                              atomic_write_text, build_eval_dataset,
                              check_classifier_config, classify,
                              corruption_pipeline, draw_completion_strip,
                              eval_spec_from_config, find_sample,
                              format_tables, iter_batches, load_classifier,
                              load_completion, load_recognizer, load_sample,
                              parse_ratio, restore_batch,
                              results_to_rows, run_benchmark,
                              score_restoration, select_frames,
                              set_corruption, subset_evenly, write_results)
from .corruption_sweep import (SweepModel, corrupted_pipeline, format_sweep,
                               plot_sweep, predict, run_sweep, sweep_pipeline,
                               write_sweep)
from .speed import (format_speed, module_breakdown, run_speed_benchmark,
                    synthetic_batch)

__all__ = [
    'METHODS', 'METHOD_LABELS', 'EvalSpec', 'atomic_write_text',
    'build_eval_dataset', 'check_classifier_config', 'classify',
    'corruption_pipeline', 'draw_completion_strip', 'eval_spec_from_config',
    'find_sample', 'format_tables', 'iter_batches', 'load_classifier',
    'load_completion', 'load_recognizer', 'load_sample', 'parse_ratio',
    'restore_batch', 'results_to_rows', 'run_benchmark', 'score_restoration',
    'select_frames', 'set_corruption', 'subset_evenly', 'write_results',
    'SweepModel', 'corrupted_pipeline', 'format_sweep', 'plot_sweep',
    'predict', 'run_sweep', 'sweep_pipeline', 'write_sweep', 'format_speed',
    'module_breakdown', 'run_speed_benchmark', 'synthetic_batch'
]
