"""Orchestration of ``tools/gpu_benchmark.sh``: which runs start when.

The training and evaluation tools it calls are tested on their own (and
``SMOKE=1`` runs the whole script for real, minutes on a CPU); here its
interpreter is a recorder that logs each call; for ``tools/train.py`` it
"trains" for a moment and writes the work dir, for ``tools/test.py`` it
writes a result file (top-1 = 0.5 + 0.1 x the run's seed), and the table
tool runs for real, so the queue and the table can be checked in seconds.
A train or test call fails (and the script reports it) when its config does
not exist or it does not set the severe level that the benchmark trains
and tests at.
"""
import json
import os
import os.path as osp
import subprocess
import sys

import pytest

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
SCRIPT = osp.join(ROOT, 'tools', 'gpu_benchmark.sh')

RECORDER = r"""#!/usr/bin/env bash
# logs "<start|end> <ns> <tool> <work dir> <seed>" for every call
tool=$1
[ "$tool" = tools/analysis/benchmark_table.py ] && exec "$REAL_PYTHON" "$@"
shift
workdir= seed=-
args=("$@")
for i in "${!args[@]}"; do
    [ "${args[$i]}" = --work-dir ] && workdir=${args[$((i + 1))]}
    [ "${args[$i]}" = --seed ] && seed=${args[$((i + 1))]}
done
echo "start $(date +%s%N) $tool ${workdir:--} $seed" >> "$RECORD"
if [ "$tool" = tools/train.py ] || [ "$tool" = tools/test.py ]; then
    [ -f "$1" ] || { echo "no config $1" >&2; exit 1; }
    # stage 1 and the clean model keep their configs' corruption
    case $(basename "$workdir") in stage1|stgcnpp-clean*) ;;
    *) [[ " $* " == *" --missing-ratio severe "* ]] || exit 1 ;; esac
fi
if [ "$tool" = tools/train.py ]; then
    [ -n "$FAIL" ] && [[ $workdir == *"$FAIL" ]] && exit 1
    sleep 0.3
    mkdir -p "$workdir" && echo "$workdir/epoch_1.pth" > "$workdir/last_checkpoint"
elif [ "$tool" = tools/test.py ]; then
    run_seed=0
    [[ $workdir =~ -seed([0-9]+)- ]] && run_seed=${BASH_REMATCH[1]}
    mkdir -p "$workdir/t" && echo "{\"acc/top1\": 0.5$run_seed, \
        \"acc/mean1\": 0.4$run_seed}" > "$workdir/t/t.json"
fi
echo "end $(date +%s%N) $tool ${workdir:--} $seed" >> "$RECORD"
"""

STAGE1_USERS = ('finetec', 'finetec-wo-decomposition', 'finetec-wo-physics')


def run_script(tmp_path, jobs, fail='', **env_vars):
    recorder = tmp_path / 'python'
    recorder.write_text(RECORDER)
    recorder.chmod(0o755)
    record = tmp_path / 'record.txt'
    env = dict(os.environ, SCHEDULE='cpu', JOBS=str(jobs),
               PYTHON=str(recorder), WORK=str(tmp_path / 'work'),
               RECORD=str(record), FAIL=fail, REAL_PYTHON=sys.executable,
               **env_vars)
    proc = subprocess.run(['bash', SCRIPT], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    events = []
    for line in record.read_text().splitlines():
        kind, ns, tool, workdir, seed = line.split()
        events.append((kind, int(ns), tool, osp.basename(workdir), seed))
    return proc.stdout, events


def trainings(events):
    """{run name: (start ns, end ns)} of the tools/train.py calls."""
    spans = {}
    for kind, ns, tool, name, _ in events:
        if tool == 'tools/train.py':
            spans.setdefault(name, [None, None])[kind == 'end'] = ns
    return spans


@pytest.mark.parametrize('jobs', [2, 0])
def test_stage1_users_wait_and_jobs_limit(tmp_path, jobs):
    out, events = run_script(tmp_path, jobs)
    spans = trainings(events)
    assert set(spans) == {'stage1', 'stgcnpp', 'stgcnpp-interp',
                          'stgcnpp-dup', 'stgcnpp-clean',
                          'finetec-wo-completion', *STAGE1_USERS}
    for name in STAGE1_USERS:
        assert spans[name][0] > spans['stage1'][1], name
    running = peak = 0
    for kind, _, tool, _, _ in sorted(
            (e for e in events if e[2] == 'tools/train.py'),
            key=lambda e: e[1]):
        running += 1 if kind == 'start' else -1
        peak = max(peak, running)
    if jobs:
        assert peak == jobs
    else:  # all that do not need stage 1 run beside it
        assert peak == 6
    # every model is tested under the three strategies, then evaluated
    tests = [e for e in events if e[2] == 'tools/test.py' and e[0] == 'start']
    assert len(tests) == 7 * 3
    tools = {e[2] for e in events}
    assert {'tools/analysis/completion_benchmark.py',
            'tools/analysis/corruption_sweep.py',
            'tools/analysis/benchmark_speed.py'} <= tools
    assert 'FAILED' not in out


def test_finished_runs_are_kept_and_failures_reported(tmp_path):
    out, _ = run_script(tmp_path, 2, fail='stgcnpp-clean')
    assert 'FAILED: train stgcnpp-clean' in out
    done = sorted(p for p in os.listdir(tmp_path / 'work')
                  if osp.exists(tmp_path / 'work' / p / '.done'))
    assert 'stgcnpp-clean' not in done and len(done) == 8
    (tmp_path / 'record.txt').unlink()
    out, events = run_script(tmp_path, 2)
    # the rerun trains only the run that failed, tests nothing again and
    # runs only the evaluation that needs it (restoration)
    assert list(trainings(events)) == ['stgcnpp-clean']
    assert out.count('trained before') == 8
    tools = [e[2] for e in events if e[0] == 'start']
    assert 'tools/test.py' not in tools
    assert out.count('result exists') == 7 * 3


def test_extra_seeds_train_and_average(tmp_path):
    out, events = run_script(tmp_path, 2, EXTRA_SEEDS='1 2')
    seeds = {name: seed for kind, _, tool, name, seed in events
             if tool == 'tools/train.py' and kind == 'start'}
    assert seeds['finetec'] == seeds['stgcnpp'] == '0'
    for s in ('1', '2'):
        assert seeds[f'finetec-seed{s}'] == seeds[f'stgcnpp-seed{s}'] == s
    spans = trainings(events)
    assert spans['finetec-seed2'][0] > spans['stage1'][1]
    tests = {name for kind, _, tool, name, _ in events
             if tool == 'tools/test.py' and kind == 'start'}
    assert 'finetec-seed2-in-between' in tests and len(tests) == 11 * 3
    # the table: one row per run, mean ± sd over seeds 0 1 2 per model
    table = json.loads((tmp_path / 'work' / 'severe_table.json').read_text())
    assert table['runs']['stgcnpp-seed1']['motion']['acc/top1'] == 0.51
    mean, sd = table['seed_summary']['finetec']['random']['acc/top1']
    assert abs(mean - 0.51) < 1e-9 and abs(sd - 0.01) < 1e-9
    assert table['seed_summary']['finetec']['seeds'] == [0, 1, 2]
    assert '| **finetec**, mean ± sd of seeds 0 1 2 | 51.0 ± 1.0 / 41.0 ± 1.0' \
        in out
    assert 'finetec-wo-physics' not in table['seed_summary']
