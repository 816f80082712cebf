"""Programmatic entry points: inference on one's own pose data
(``init_recognizer``, ``inference_skeleton``, ``init_restorer``,
``restore_skeleton``, as in ``mmaction.apis``) and the analysis tools (not
imported by ``import finetec_mmaction``; import them explicitly).

The implementations live where their folder says what they do:
evaluation loops in :mod:`finetec_mmaction.evaluation` (``restoration``,
``corruption_sweep``, ``speed``), figures in
:mod:`finetec_mmaction.visualization`, model loading in
:mod:`finetec_mmaction.models.loading`, files in
:mod:`finetec_mmaction.utils.io`; this module gathers their public names.
"""
from ..core.masking import parse_ratio
from ..datasets.subset import find_sample, subset_evenly
from ..evaluation.corruption_sweep import (SweepModel, corrupted_pipeline,
                                           format_sweep, predict, run_sweep,
                                           sweep_pipeline, write_sweep)
from ..evaluation.restoration import (METHOD_LABELS, METHODS, EvalSpec,
                                      build_eval_dataset,
                                      check_classifier_config, classify,
                                      corruption_pipeline,
                                      eval_spec_from_config, format_tables,
                                      iter_batches, load_classifier,
                                      load_sample, restore_batch,
                                      results_to_rows, run_benchmark,
                                      score_restoration, set_corruption,
                                      write_results)
from ..evaluation.speed import (format_speed, module_breakdown,
                                run_speed_benchmark, synthetic_batch)
from ..models.loading import load_completion, load_recognizer
from ..utils.io import atomic_write_text
from ..visualization import draw_completion_strip, plot_sweep, select_frames
from .inference import (inference_skeleton, init_recognizer, init_restorer,
                        restore_skeleton)

__all__ = [
    'METHODS', 'METHOD_LABELS', 'EvalSpec', 'atomic_write_text',
    'build_eval_dataset', 'check_classifier_config', 'classify',
    'corruption_pipeline', 'draw_completion_strip', 'eval_spec_from_config',
    'find_sample', 'format_tables', 'iter_batches', 'load_classifier',
    'load_completion', 'load_recognizer', 'load_sample', 'parse_ratio',
    'restore_batch', 'results_to_rows', 'run_benchmark', 'score_restoration',
    'select_frames', 'set_corruption', 'subset_evenly', 'write_results',
    'SweepModel', 'format_sweep', 'plot_sweep', 'run_sweep', 'sweep_pipeline',
    'write_sweep', 'format_speed', 'module_breakdown', 'run_speed_benchmark',
    'synthetic_batch', 'inference_skeleton', 'init_recognizer',
    'init_restorer', 'restore_skeleton'
]
