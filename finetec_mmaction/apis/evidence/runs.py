"""The runs of the protocol on disk: where each lives, whether it is done
or stale, and the two kinds of work done on it (training, sweep cells).

Layout of a work dir::

    {work_dir}/{dataset}/frozen_completion/{key}.pth  shared training-free ①
    {work_dir}/{dataset}/{model}/seed{k}/config.py    the run's full config
    {work_dir}/{dataset}/{model}/seed{k}/train.log    what training printed
    {work_dir}/{dataset}/{model}/seed{k}/.done        JSON: config sha, time
    {work_dir}/{dataset}/{model}/seed{k}/sweep/{split}/{cell}.npz

A run whose ``.done`` holds the sha of its current config is not trained
again; a cell whose file exists and was made from that run's checkpoint is
not evaluated again. Every file is written atomically.
"""
import contextlib
import gc
import hashlib
import json
import os
import os.path as osp
import resource
import shutil
import sys
import time
from dataclasses import dataclass
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np

from ...utils.io import atomic_write, resolve_checkpoint
from ...utils.io import atomic_write_text
from .spec import cell_name

DONE = '.done'


@dataclass
class Run:
    """One (dataset, model, seed) of the protocol."""
    dataset: str
    model: str
    seed: int
    run_dir: str
    config_sha: str = ''

    @property
    def config_file(self) -> str:
        return osp.join(self.run_dir, 'config.py')

    @property
    def done_file(self) -> str:
        return osp.join(self.run_dir, DONE)

    @property
    def log_file(self) -> str:
        return osp.join(self.run_dir, 'train.log')

    def cell_file(self, split: str, strategy: Optional[str],
                  ratio: float) -> str:
        return osp.join(self.run_dir, 'sweep', split,
                        f'{cell_name(strategy, ratio)}.npz')

    def __str__(self) -> str:
        return f'{self.dataset}/{self.model}/seed{self.seed}'


def text_sha(text: str) -> str:
    """SHA-256 of a run config's text, its leading comment lines left out
    (they say where it came from, not what it does)."""
    lines = text.splitlines(keepends=True)
    while lines and lines[0].startswith('#'):
        lines.pop(0)
    return hashlib.sha256(''.join(lines).encode()).hexdigest()


def read_done(run: Run) -> Optional[Dict]:
    if not osp.isfile(run.done_file):
        return None
    with open(run.done_file) as f:
        return json.load(f)


def run_state(run: Run) -> str:
    """``'done'``, ``'stale'`` (done with another config), ``'partial'``
    (started with this config: resumed), ``'changed'`` (started with
    another config) or ``'new'``."""
    done = read_done(run)
    if done is not None:
        return 'done' if done.get('config_sha') == run.config_sha \
            else 'stale'
    if osp.isfile(run.config_file):
        with open(run.config_file) as f:
            same = text_sha(f.read()) == run.config_sha
        return 'partial' if same else 'changed'
    return 'new'


def reset_run(run: Run) -> None:
    """Remove everything a run has made (before it is trained anew)."""
    if osp.isdir(run.run_dir):
        shutil.rmtree(run.run_dir)


def write_config(run: Run, text: str) -> None:
    atomic_write_text(run.config_file, text)


# ------------------------------------------------------------- workers
@contextlib.contextmanager
def redirect_output(path: str) -> Iterator[None]:
    """Send this process's stdout / stderr (file descriptors too, so that
    mmengine's handlers and progress bars follow) to ``path``."""
    os.makedirs(osp.dirname(path), exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with open(path, 'a') as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)


def init_worker() -> None:
    """Each job computes on one thread (two jobs share two cores)."""
    import torch
    torch.set_num_threads(1)


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children (loader
    workers): with a shared machine, wall time says little about cost."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + \
        children.ru_stime


def _val_metrics(runner) -> Dict:
    out = {}
    for key in ('acc/top1', 'acc/mean1'):
        try:
            out[key] = float(
                runner.message_hub.get_scalar(f'val/{key}').current())
        except KeyError:
            pass
    return out


def train_run(run: Run) -> Dict:
    """Train one run through mmengine's Runner (in a worker process).

    Resumes from the run's last checkpoint when there is one. Writes
    ``.done`` when training finished.
    """
    from mmengine.config import Config
    from mmengine.runner import Runner

    from mmaction.registry import RUNNERS
    from ...utils import check_runner_checkpoint
    start, cpu = time.time(), cpu_seconds()
    resumed = osp.isfile(osp.join(run.run_dir, 'last_checkpoint'))
    with redirect_output(run.log_file):
        cfg = Config.fromfile(run.config_file)
        if resumed:
            cfg.resume, cfg.load_from = True, None
        runner = RUNNERS.build(cfg) if 'runner_type' in cfg \
            else Runner.from_cfg(cfg)
        check_runner_checkpoint(runner, training=True)
        runner.train()
        val = _val_metrics(runner)
        del runner  # joins the loader workers, so their CPU time counts
        gc.collect()
    info = dict(config_sha=run.config_sha,
                checkpoint=resolve_checkpoint(run.run_dir),
                seconds=round(time.time() - start, 1),
                cpu_seconds=round(cpu_seconds() - cpu, 1),
                epochs=int(cfg.train_cfg.max_epochs), resumed=resumed,
                val=val, finished=time.strftime('%Y-%m-%d %H:%M:%S'))
    atomic_write_text(run.done_file, json.dumps(info, indent=2) + '\n')
    return info


# --------------------------------------------------------------- cells
def write_cell(path: str, frame_dirs: Sequence[str], labels: np.ndarray,
               scores: np.ndarray, meta: Dict) -> None:
    """Per-video predictions of one sweep cell, atomically."""
    arrays = dict(frame_dir=np.asarray(list(frame_dirs), dtype=str),
                  label=np.asarray(labels, dtype=np.int64),
                  score=np.asarray(scores, dtype=np.float32),
                  meta=np.asarray(json.dumps(meta)))
    atomic_write(path, lambda f: np.savez(f, **arrays))


def read_cell(path: str) -> Dict:
    with np.load(path, allow_pickle=False) as data:
        return dict(frame_dir=data['frame_dir'].tolist(),
                    label=data['label'], score=data['score'],
                    meta=json.loads(str(data['meta'])))


def cell_is_current(run: Run, path: str) -> bool:
    """The cell file exists and was made from the run's current training."""
    if not osp.isfile(path):
        return False
    try:
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data['meta']))
    except (OSError, ValueError, KeyError):
        return False  # unreadable: evaluated again
    return meta.get('config_sha') == run.config_sha


@dataclass
class EvalTask:
    """Sweep cells of one split for a set of runs (one worker call)."""
    split: str
    cells: List[Tuple[Optional[str], float]]
    runs: List[Run]
    mask_seed: int
    batch_size: int
    log_file: str

    def describe(self) -> str:
        names = list(dict.fromkeys(s or 'clean' for s, _ in self.cells))
        return (f'{self.runs[0].dataset} {self.split} sweep '
                f'[{", ".join(names)}] x {len(self.runs)} runs')


def _split_dataset_cfg(cfg, split: str):
    """The test dataset config of a run config, on the val or test split,
    and its test pipeline (the model's own)."""
    from ...utils.config import leaf_dataset, loader_pipeline, to_plain
    dataset, pipeline = loader_pipeline(cfg)
    dataset = to_plain(dataset)
    if split == 'val':
        dataset['split'] = to_plain(leaf_dataset(
            cfg.val_dataloader.dataset)['split'])
    return dataset, [to_plain(t) for t in pipeline]


def evaluate_cells(task: EvalTask) -> Dict:
    """Evaluate the missing cells of ``task`` (in a worker process).

    Runs that share a test pipeline (same data, same transforms) share the
    built dataset and the collated clips of a cell; a frozen ① shared by
    several runs restores each clip once (:class:`RestorationCache`).
    """
    import torch
    from mmengine.config import Config
    from mmengine.dataset import Compose, pseudo_collate
    from mmengine.registry import DefaultScope
    from torch.utils.data import DataLoader

    from mmaction.registry import DATASETS
    from ...engine.hooks.corruption_digest_hook import corruption_digest
    from ...models.recognizers import RestorationCache, restoration_cache
    from ...models.loading import load_recognizer
    from ...evaluation.corruption_sweep import predict, sweep_pipeline
    start, cpu = time.time(), cpu_seconds()
    device = 'cuda' if torch.cuda.is_available() else 'cpu'
    done = evaluated = 0
    with redirect_output(task.log_file), \
            restoration_cache(RestorationCache()) as cache:
        groups: Dict[str, List] = {}
        for run in task.runs:
            cfg = Config.fromfile(run.config_file)
            data_cfg, pipeline = _split_dataset_cfg(cfg, task.split)
            key = json.dumps([data_cfg | dict(pipeline=None), pipeline],
                             sort_keys=True, default=str)
            groups.setdefault(key, []).append((run, cfg, data_cfg, pipeline))
        built, models = {}, {}
        for strategy, ratio in task.cells:
            for key, members in groups.items():
                todo = [m for m in members if not cell_is_current(
                    m[0], m[0].cell_file(task.split, strategy, ratio))]
                done += len(members) - len(todo)
                if not todo:
                    continue
                _, _, data_cfg, pipeline = members[0]
                if key not in built:
                    clean = sweep_pipeline(pipeline, 0.0, 'random',
                                           task.mask_seed)[0]
                    with DefaultScope.overwrite_default_scope('mmaction'):
                        dataset = DATASETS.build(
                            dict(data_cfg, pipeline=clean, test_mode=True))
                    names = [dataset.get_data_info(i)['frame_dir']
                             for i in range(len(dataset))]
                    built[key] = dataset, names
                dataset, names = built[key]
                with DefaultScope.overwrite_default_scope('mmaction'):
                    dataset.pipeline = Compose(sweep_pipeline(
                        pipeline, ratio, strategy or 'random',
                        task.mask_seed)[0])
                digest = corruption_digest(dataset)
                batches = list(DataLoader(
                    dataset, batch_size=task.batch_size, shuffle=False,
                    num_workers=0, collate_fn=pseudo_collate))
                for run, cfg, _, _ in todo:
                    if run.run_dir not in models:
                        models[run.run_dir] = load_recognizer(
                            cfg, run.run_dir, device)
                    tic, tic_cpu = time.time(), cpu_seconds()
                    scores, labels = predict(models[run.run_dir], dataset,
                                             batches=batches)
                    meta = dict(
                        config_sha=run.config_sha,
                        checkpoint=resolve_checkpoint(run.run_dir),
                        split=task.split, strategy=strategy, ratio=ratio,
                        mask_seed=task.mask_seed,
                        mask_digest=(digest or {}).get('digest'),
                        batch_size=task.batch_size,
                        seconds=round(time.time() - tic, 2),
                        cpu_seconds=round(cpu_seconds() - tic_cpu, 2))
                    write_cell(run.cell_file(task.split, strategy, ratio),
                               names, labels, scores, meta)
                    evaluated += 1
                    print(f'{run} {task.split} {cell_name(strategy, ratio)}:'
                          f' top-1 {(scores.argmax(1) == labels).mean():.4f}'
                          f' ({meta["seconds"]} s)', flush=True)
        summary = cache.summary()
        print(summary, flush=True)
    return dict(evaluated=evaluated, skipped=done,
                seconds=round(time.time() - start, 1),
                cpu_seconds=round(cpu_seconds() - cpu, 1), cache=summary)
