"""The README's commands run as written.

A shell block is *runnable* when the line before its opening fence is the
marker ``<!-- runnable -->``, optionally with options::

    <!-- runnable timeout=300 needs=data/penn_action -->
    ```bash
    python tools/analysis/completion_benchmark.py ...
    ```

``timeout`` (seconds, default 600) bounds the block; ``needs`` lists paths
(comma-separated, relative to the repository) without which it is skipped
(data that CI does not have). Each runnable block runs with ``bash -e -o
pipefail`` in a fresh folder that links the repository's top-level entries
(so its outputs, e.g. ``work_dirs/``, land there), with ``python`` the
interpreter of this test run and ``SMOKE=1`` set, which the scripts may read
to shrink their work (``tools/gpu_benchmark.sh`` does). Mark only blocks that
finish in a minute or two on a 2-core CPU.

Every shell block, runnable or not, must name only configs and tools that
exist.
"""
import os
import os.path as osp
import re
import shlex
import subprocess
import sys

import pytest

from e2e_utils import REPO

README = osp.join(REPO, 'README.md')
MARKER = re.compile(r'^<!--\s*runnable(?P<options>(?:\s+[\w-]+=\S+)*)\s*-->$')
FENCE = re.compile(r'^```(\w*)')
SHELLS = ('bash', 'sh', 'shell', 'console')


def shell_blocks(text):
    """``[(line, code, options or None)]`` of the shell blocks of a
    Markdown text; ``options`` is a dict when the block is marked
    runnable."""
    lines = text.splitlines()
    blocks, i = [], 0
    while i < len(lines):
        fence = FENCE.match(lines[i])
        if not fence:
            i += 1
            continue
        end = i + 1
        while end < len(lines) and not lines[end].startswith('```'):
            end += 1
        if fence[1] in SHELLS:
            marker = MARKER.match(lines[i - 1].strip()) if i else None
            options = None
            if marker:
                options = dict(o.split('=', 1)
                               for o in marker['options'].split())
            blocks.append((i + 1, '\n'.join(lines[i + 1:end]), options))
        i = end + 1
    return blocks


with open(README, encoding='utf-8') as f:
    BLOCKS = shell_blocks(f.read())
RUNNABLE = [b for b in BLOCKS if b[2] is not None]


def test_the_marker_is_read():
    text = '\n'.join([
        'text', '<!-- runnable timeout=30 needs=data/a,data/b -->',
        '```bash', 'echo one', '```', '', '```bash', 'echo two', '```',
        '<!-- runnable -->', '```python', 'print(3)', '```',
        '<!-- runnable -->', '```bash', 'echo four', '```'])
    blocks = shell_blocks(text)
    assert [(line, code) for line, code, _ in blocks] == [
        (3, 'echo one'), (7, 'echo two'), (15, 'echo four')]
    assert [b[2] for b in blocks] == [
        dict(timeout='30', needs='data/a,data/b'), None, {}]


def _named_paths(code):
    """``configs/...`` and ``tools/...`` paths a block names (outputs such
    as ``work_dirs/`` are not checked)."""
    words = shlex.split(code.replace('\\\n', ' '), comments=True)
    return sorted({w for w in words
                   if re.match(r'^(configs|tools)/[\w./+-]+\.(py|sh)$', w)})


@pytest.mark.parametrize('line, code', [(b[0], b[1]) for b in BLOCKS],
                         ids=[f'README.md:{b[0]}' for b in BLOCKS])
def test_every_block_names_existing_configs_and_tools(line, code):
    missing = [p for p in _named_paths(code)
               if not osp.isfile(osp.join(REPO, p))]
    assert not missing, f'README.md:{line} names {missing}'


@pytest.mark.parametrize('line, code, options', RUNNABLE,
                         ids=[f'README.md:{b[0]}' for b in RUNNABLE])
def test_runnable_block_runs(line, code, options, tmp_path):
    needs = [p for p in options.get('needs', '').split(',') if p]
    absent = [p for p in needs if not osp.exists(osp.join(REPO, p))]
    if absent:
        pytest.skip(f'README.md:{line} needs {absent}')
    for name in os.listdir(REPO):
        if name not in ('.git', 'work_dirs'):
            os.symlink(osp.join(REPO, name), tmp_path / name)
    env = dict(os.environ, SMOKE='1', OMP_NUM_THREADS='1',
               PATH=osp.dirname(sys.executable) + os.pathsep +
               os.environ.get('PATH', ''))
    proc = subprocess.run(['bash', '-e', '-o', 'pipefail', '-c', code],
                          cwd=str(tmp_path), env=env, capture_output=True,
                          text=True, timeout=int(options.get('timeout', 600)))
    assert proc.returncode == 0, (
        f'README.md:{line} failed:\n{code}\n--- output\n'
        f'{(proc.stdout + proc.stderr)[-4000:]}')
