import os
import os.path as osp
import tempfile
from typing import Callable, IO


def atomic_write(path: str, write_fn: Callable[[IO], None],
                 mode: str = 'wb') -> None:
    """Write ``path`` through a temporary file in the same folder, then
    rename it into place, so that a reader (another rank, an interrupted
    run) never sees a half-written file.

    Args:
        path (str): Destination; parent folders are created.
        write_fn (callable): Called with the open temporary file.
        mode (str): ``'wb'`` or ``'w'`` (text, no newline translation).
    """
    path = osp.abspath(os.fspath(path))
    folder = osp.dirname(path)
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        dir=folder, prefix=f'.{osp.basename(path)}.', suffix='.tmp')
    try:
        kwargs = {} if 'b' in mode else dict(newline='')
        with os.fdopen(fd, mode, **kwargs) as f:
            write_fn(f)
            f.flush()
            os.fsync(f.fileno())
        # mkstemp creates the file 0600; give it the usual permissions
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise


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
