"""The evidence protocol, end to end: plan the runs of a spec, train what is
not trained, evaluate what is not evaluated, write the tables.

Work is done by a pool of ``jobs`` worker processes (spawned, one torch
thread each): first every training run, then the sweep, split into one task
per split and strategy so that the runs of a task share the collated test
clips and module ①'s restorations (:mod:`.runs`). The parent only plans,
reports progress and writes the report.
"""
import multiprocessing
import os
import os.path as osp
import time
from concurrent.futures import (FIRST_COMPLETED, ProcessPoolExecutor,
                                wait)
from typing import Callable, Dict, List, Optional, Sequence

from .report import write_report
from .runs import (EvalTask, Run, cell_is_current, evaluate_cells,
                   init_worker, reset_run, run_state, text_sha, train_run,
                   write_config)
from .run_config import (build_run_config, completion_cfg, completion_key,
                         use_shared_completion)
from .spec import ProtocolSpec


class ProtocolError(RuntimeError):
    """Runs that cannot be used as they are, or jobs that failed."""


def plan_runs(spec: ProtocolSpec, work_dir: str,
              cfg_options: Optional[Dict] = None):
    """Every run of the spec with its config text and sha, and the shared
    frozen ① checkpoints they need (``{path: completion config}``)."""
    runs, texts, completions = [], {}, {}
    for dataset in spec.datasets:
        for model in dataset.models:
            for seed in spec.seeds:
                run_dir = osp.join(work_dir, dataset.name, model.slug,
                                   f'seed{seed}')
                cfg = build_run_config(spec, dataset, model, seed, run_dir,
                                       cfg_options)
                completion = completion_cfg(cfg, dataset)
                if completion is not None:
                    path = osp.join(work_dir, dataset.name,
                                    'frozen_completion',
                                    f'{completion_key(completion)}.pth')
                    completions[path] = completion
                    use_shared_completion(cfg, path)
                text = cfg.pretty_text
                run = Run(dataset.name, model.name, seed, run_dir,
                          text_sha(text))
                header = (
                    f'# Run {run} of the evidence protocol {spec.filename},'
                    f'\n# built from {model.config}. The dataloaders, model '
                    'and schedule below are what runs;\n# top-level '
                    'variables of that config (e.g. train_pipeline) are left '
                    'as they were.\n')
                runs.append(run)
                texts[run.run_dir] = header + text
    return runs, texts, completions


def prepare_frozen_completion(completion: Dict, path: str) -> None:
    """Build the training-free module ① once (its bank from the training
    part) and save it as a stage-1 checkpoint that every run loads, so that
    all models and seeds of a dataset share the same frozen ①."""
    import torch
    from mmengine.registry import DefaultScope

    from mmaction.registry import MODELS
    from ...utils.io import atomic_write
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmaction'):
        module = MODELS.build(completion)
    state = {f'completion.{k}': v for k, v in module.state_dict().items()}
    atomic_write(path, lambda f: torch.save(
        dict(state_dict=state, meta=dict(completion=repr(completion))), f))


def _pool(jobs: int) -> ProcessPoolExecutor:
    """``jobs`` spawned worker processes, one torch thread each."""
    for var in ('OMP_NUM_THREADS', 'MKL_NUM_THREADS'):
        os.environ[var] = '1'  # inherited by the workers
    return ProcessPoolExecutor(max_workers=jobs,
                               mp_context=multiprocessing.get_context('spawn'),
                               initializer=init_worker)


def _execute(pool: ProcessPoolExecutor, fn: Callable, tasks: Sequence,
             describe: Callable, log: Callable, phase: str,
             heartbeat: float = 300) -> List:
    """Run ``fn(task)`` for every task on the pool; print a line per
    finished task and one every ``heartbeat`` seconds while they run;
    return the failures as ``(task, error)``."""
    if not tasks:
        return []
    failures = []
    start = time.time()
    futures = {pool.submit(fn, task): task for task in tasks}
    log(f'{phase}: {len(tasks)} jobs; each writes its output to a log file '
        f'(e.g. {tasks[0].log_file})')
    pending, count = set(futures), 0
    while pending:
        finished, pending = wait(pending, timeout=heartbeat,
                                 return_when=FIRST_COMPLETED)
        elapsed = time.time() - start
        if not finished:
            log(f'[{phase}] {count}/{len(tasks)} done, {len(pending)} '
                f'waiting or running; {elapsed / 60:.1f} min elapsed')
        for future in finished:
            count += 1
            task = futures[future]
            left = elapsed / count * (len(tasks) - count)
            try:
                result = future.result()
            except Exception as err:  # report, go on with the others
                failures.append((task, err))
                log(f'[{phase} {count}/{len(tasks)}] {describe(task)}: '
                    f'FAILED ({type(err).__name__}: {err})')
                continue
            log(f'[{phase} {count}/{len(tasks)}] {describe(task)}: done '
                f'({_seconds(result)}); {elapsed / 60:.1f} min elapsed, '
                f'~{left / 60:.1f} min left')
    return failures


def _seconds(result: Dict) -> str:
    parts = [f'{result.get("seconds", 0):.0f} s wall, '
             f'{result.get("cpu_seconds", 0):.0f} s CPU']
    if result.get('val'):
        parts += [f'val {k} {v:.4f}' for k, v in result['val'].items()]
    if 'evaluated' in result:
        parts.append(f'{result["evaluated"]} cells')
    if result.get('cache'):
        parts.append(result['cache'])
    return ', '.join(parts)


def eval_tasks(spec: ProtocolSpec, runs: Sequence[Run],
               work_dir: str) -> List[EvalTask]:
    """One task per dataset, split and strategy (clean clips: one more),
    holding the trained runs with a cell of it still to evaluate."""
    tasks = []
    for dataset in spec.datasets:
        trained = [r for r in runs if r.dataset == dataset.name
                   and run_state(r) == 'done']
        groups = ([[(None, 0.0)]] if 0.0 in spec.ratios else []) + [
            [(s, r) for r in spec.ratios if r > 0] for s in spec.strategies]
        for split in spec.eval_splits:
            for cells in groups:
                todo = [r for r in trained if any(
                    not cell_is_current(r, r.cell_file(split, s, ratio))
                    for s, ratio in cells)]
                if not cells or not todo:
                    continue
                name = cells[0][0] or 'clean'
                tasks.append(EvalTask(
                    split=split, cells=cells, runs=todo,
                    mask_seed=spec.mask_seed, batch_size=spec.batch_size,
                    log_file=osp.join(work_dir, dataset.name, 'logs',
                                      f'sweep_{split}_{name}.log')))
    return tasks


def run_protocol(spec: ProtocolSpec,
                 work_dir: str,
                 jobs: int = 2,
                 cfg_options: Optional[Dict] = None,
                 train: bool = True,
                 evaluate: bool = True,
                 rerun_stale: bool = False,
                 dry_run: bool = False,
                 log: Callable = print) -> Dict:
    """Train, evaluate and report (see the module docstring).

    Args:
        spec (ProtocolSpec): The loaded spec.
        work_dir (str): Where runs, cells and the report live.
        jobs (int): Worker processes. Defaults to 2.
        cfg_options (dict, optional): Merged into every run config.
        train / evaluate (bool): Do these phases (else only report what
            exists).
        rerun_stale (bool): Retrain runs finished with another config
            (else they stop the protocol).
        dry_run (bool): Print the plan and the state of each run only.
        log (callable): Progress output.

    Returns:
        dict: ``runs`` (with states), ``report`` (see :func:`write_report`;
        absent in a dry run), ``failures``.
    """
    if jobs < 1:
        raise ValueError(f'jobs must be >= 1, got {jobs}.')
    runs, texts, completions = plan_runs(spec, work_dir, cfg_options)
    states = {r.run_dir: run_state(r) for r in runs}
    counts = {s: list(states.values()).count(s) for s in set(states.values())}
    log(f'{len(runs)} runs ({len(spec.datasets)} datasets x models x '
        f'{len(spec.seeds)} seeds): ' + ', '.join(
            f'{n} {s}' for s, n in sorted(counts.items())))
    stale = [r for r in runs if states[r.run_dir] == 'stale']
    if dry_run:
        for run in runs:
            log(f'  {states[run.run_dir]:8s} {run}')
        for task in eval_tasks(spec, runs, work_dir):
            log(f'  to evaluate: {task.describe()}')
        return dict(runs=runs, states=states, failures=[])
    if stale and train and not rerun_stale:
        raise ProtocolError(
            f'{len(stale)} finished runs were trained with another config '
            f'(e.g. {stale[0]}: {stale[0].config_file} differs from what the '
            'spec gives now). Pass --rerun-stale to train them again, or use '
            'another --work-dir.')
    failures = []
    todo = [r for r in runs if states[r.run_dir] != 'done'] if train else []
    for run in todo:
        if states[run.run_dir] in ('stale', 'changed'):
            log(f'{run}: its config changed, training it anew')
            reset_run(run)
        write_config(run, texts[run.run_dir])
    for path, completion in completions.items():
        if todo and not osp.isfile(path):
            log(f'building the shared frozen completion module {path}')
            prepare_frozen_completion(completion, path)
    pool = None
    try:
        if todo:
            pool = _pool(jobs)
            failures += _execute(pool, train_run, todo, str, log, 'train')
        tasks = eval_tasks(spec, runs, work_dir) if evaluate else []
        if tasks:
            pool = pool or _pool(jobs)
            failures += _execute(pool, evaluate_cells, tasks,
                                 lambda t: t.describe(), log, 'sweep')
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    report = write_report(spec, runs, osp.join(work_dir, 'report'))
    log(report['markdown'])
    log('\n'.join(f'wrote {p}' for p in report['paths']))
    for task, err in failures:
        where = task.log_file
        log(f'FAILED: {getattr(task, "describe", lambda: task)()} '
            f'({type(err).__name__}: {err}); see {where}')
    return dict(runs=runs, states=states, report=report, failures=failures)
