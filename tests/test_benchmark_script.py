"""Orchestration of ``tools/gpu_benchmark.sh``: which runs start when.

The training and evaluation tools it calls are tested on their own (and
``SMOKE=1`` runs the whole script for real, minutes on a CPU); here its
interpreter is a recorder that logs each call and, for ``tools/train.py``,
"trains" for a moment and writes the work dir, so the queue can be checked
in seconds.
"""
import os
import os.path as osp
import subprocess

import pytest

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
SCRIPT = osp.join(ROOT, 'tools', 'gpu_benchmark.sh')

RECORDER = r"""#!/usr/bin/env bash
# logs "<start|end> <ns> <tool> <work dir>" for every call
tool=$1; shift
workdir=
args=("$@")
for i in "${!args[@]}"; do
    [ "${args[$i]}" = --work-dir ] && workdir=${args[$((i + 1))]}
done
echo "start $(date +%s%N) $tool $workdir" >> "$RECORD"
if [ "$tool" = tools/train.py ]; then
    [ -n "$FAIL" ] && [[ $workdir == *"$FAIL" ]] && exit 1
    sleep 0.3
    mkdir -p "$workdir" && echo "$workdir/epoch_1.pth" > "$workdir/last_checkpoint"
fi
echo "end $(date +%s%N) $tool $workdir" >> "$RECORD"
"""

STAGE1_USERS = ('finetec', 'finetec-wo-decomposition', 'finetec-wo-physics')


def run_script(tmp_path, jobs, fail=''):
    recorder = tmp_path / 'python'
    recorder.write_text(RECORDER)
    recorder.chmod(0o755)
    record = tmp_path / 'record.txt'
    env = dict(os.environ, SCHEDULE='cpu', JOBS=str(jobs),
               PYTHON=str(recorder), WORK=str(tmp_path / 'work'),
               RECORD=str(record), FAIL=fail)
    proc = subprocess.run(['bash', SCRIPT], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    events = []
    for line in record.read_text().splitlines():
        kind, ns, tool, *workdir = line.split()
        events.append((kind, int(ns), tool,
                       osp.basename(workdir[0]) if workdir else ''))
    return proc.stdout, events


def trainings(events):
    """{run name: (start ns, end ns)} of the tools/train.py calls."""
    spans = {}
    for kind, ns, tool, name in events:
        if tool == 'tools/train.py':
            spans.setdefault(name, [None, None])[kind == 'end'] = ns
    return spans


@pytest.mark.parametrize('jobs', [2, 0])
def test_stage1_users_wait_and_jobs_limit(tmp_path, jobs):
    out, events = run_script(tmp_path, jobs)
    spans = trainings(events)
    assert set(spans) == {'stage1', 'stgcnpp', 'stgcnpp-interp',
                          'stgcnpp-clean', 'finetec-wo-completion',
                          *STAGE1_USERS}
    for name in STAGE1_USERS:
        assert spans[name][0] > spans['stage1'][1], name
    running = peak = 0
    for kind, _, tool, _ in sorted(
            (e for e in events if e[2] == 'tools/train.py'),
            key=lambda e: e[1]):
        running += 1 if kind == 'start' else -1
        peak = max(peak, running)
    if jobs:
        assert peak == jobs
    else:  # all that do not need stage 1 run beside it
        assert peak == 5
    # every model is tested under the three strategies, then evaluated
    tests = [e for e in events if e[2] == 'tools/test.py' and e[0] == 'start']
    assert len(tests) == 6 * 3
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
    assert 'stgcnpp-clean' not in done and len(done) == 7
    (tmp_path / 'record.txt').unlink()
    out, events = run_script(tmp_path, 2)
    # the rerun trains only the run that failed
    assert list(trainings(events)) == ['stgcnpp-clean']
    assert out.count('trained before') == 7
