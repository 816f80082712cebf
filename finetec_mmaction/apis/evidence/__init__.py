"""The evidence protocol: several seeds of every model of a spec trained on
the training split minus a carved validation part, the whole corruption
sweep on identical masks, per-video predictions on disk, and the statistics
(mean ± 95 % CI over seeds, paired bootstrap over videos) in tables and
plots. Used by ``tools/analysis/evidence_protocol.py``."""
from .protocol import (ProtocolError, eval_tasks, plan_runs,
                       prepare_frozen_completion, run_protocol)
from .report import (PairingError, collect, format_markdown, plot_sweep_ci,
                     summarise, write_report)
from .runs import (EvalTask, Run, evaluate_cells, read_cell, read_done,
                   run_state, train_run)
from .run_config import build_run_config
from .spec import (DatasetEntry, ModelEntry, ProtocolSpec, cell_name,
                   load_spec)

__all__ = [
    'ProtocolError', 'eval_tasks', 'plan_runs', 'prepare_frozen_completion',
    'run_protocol', 'PairingError', 'collect', 'format_markdown',
    'plot_sweep_ci', 'summarise', 'write_report', 'EvalTask', 'Run',
    'evaluate_cells', 'read_cell', 'read_done', 'run_state', 'train_run',
    'DatasetEntry', 'ModelEntry', 'ProtocolSpec', 'build_run_config',
    'cell_name', 'load_spec'
]
