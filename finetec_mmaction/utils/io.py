"""Files written atomically (temp file + rename) and checkpoint paths."""
import contextlib
import csv
import io
import json
import math
import os
import os.path as osp
import tempfile
from typing import IO, Callable, Dict, Iterable, Iterator, Sequence

import numpy as np


@contextlib.contextmanager
def atomic_path(path: str, suffix: str = '.tmp') -> Iterator[str]:
    """A temporary path beside ``path`` for a writer that takes a file name
    (ONNX, ffmpeg); renamed into place when the block ends without an
    error, removed otherwise, so ``path`` is never half-written.

    Args:
        path (str): Destination; parent folders are created.
        suffix (str): Ending of the temporary name (some writers choose
            the format by it).
    """
    path = osp.abspath(os.fspath(path))
    folder = osp.dirname(path)
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        dir=folder, prefix=f'.{osp.basename(path)}.', suffix=suffix)
    os.close(fd)
    try:
        yield tmp
        # mkstemp creates the file 0600; give it the usual permissions
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    finally:
        if osp.exists(tmp):
            os.remove(tmp)


def atomic_write(path: str, write_fn: Callable[[IO], None],
                 mode: str = 'wb') -> None:
    """Write ``path`` through a temporary file in the same folder, then
    rename it into place (:func:`atomic_path`), so that a reader (another
    rank, an interrupted run) never sees a half-written file.

    Args:
        path (str): Destination; parent folders are created.
        write_fn (callable): Called with the open temporary file.
        mode (str): ``'wb'`` or ``'w'`` (text, no newline translation).
    """
    kwargs = {} if 'b' in mode else dict(newline='')
    with atomic_path(path) as tmp:
        with open(tmp, mode, **kwargs) as f:
            write_fn(f)
            f.flush()
            os.fsync(f.fileno())


def resolve_checkpoint(path: str) -> str:
    """A checkpoint file, or the one that a work dir's ``last_checkpoint``
    (written by mmengine's CheckpointHook) names; the path itself when
    neither exists, for the caller to report."""
    if osp.isdir(path):
        pointer = osp.join(path, 'last_checkpoint')
        if osp.isfile(pointer):
            with open(pointer) as f:
                return f.read().strip()
    return path


def atomic_write_text(path: str, text: str) -> None:
    """Write ``text`` to ``path`` atomically (temp file + rename)."""
    atomic_write(path, lambda f: f.write(text), mode='w')


def json_safe(value):
    """``value`` with numpy scalars as Python numbers and NaN / inf as
    ``None`` (valid JSON), dict keys as strings."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, (np.floating, float)):
        value = float(value)
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, np.integer):
        return int(value)
    return value


def dump_json(path: str, value) -> None:
    """``value`` (see :func:`json_safe`) as indented JSON, atomically."""
    atomic_write_text(path, json.dumps(json_safe(value), indent=2) + '\n')


def dump_csv(path: str, rows: Iterable[Dict], fields: Sequence[str]) -> None:
    """``rows`` as CSV with columns ``fields`` (missing and NaN cells
    empty), atomically."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(fields), restval='',
                            lineterminator='\n')
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ('' if v is None or (isinstance(v, float) and
                                                 math.isnan(v)) else v)
                         for k, v in row.items()})
    atomic_write_text(path, buf.getvalue())
