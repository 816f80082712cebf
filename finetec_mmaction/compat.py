"""Compatibility fixes for the OpenMMLab stack on current Python/torch/numpy.

Every fix here must run before anything imports ``mmaction.models``; the
package ``__init__`` calls :func:`apply_compat_fixes` first. Each fix is
idempotent and only touches what is broken (see ``STACK.md`` in the repo
notes for the symptoms).

Two changes are reliability fixes rather than compatibility fixes:
:func:`_atomic_checkpoint_writes` makes mmengine write checkpoints and the
``last_checkpoint`` pointer through a temporary file and a rename, and
:func:`_remove_old_checkpoints_after_saving` makes ``CheckpointHook`` delete
outdated checkpoints only once the new one is written. They are applied
here, at ``import finetec_mmaction``, so that they also cover MMAction2's own
``tools/train.py`` running a config that loads the plugin via
``custom_imports``.
"""
import importlib
import importlib.metadata
import importlib.util
import io
import os
import sys
import types


def _alias_importlib_metadata() -> None:
    # mmaction.utils.dependency imports ``importlib_metadata`` without
    # declaring it; the stdlib module has the same API.
    try:
        importlib.import_module('importlib_metadata')
    except ImportError:
        import importlib.metadata as stdlib_metadata
        sys.modules['importlib_metadata'] = stdlib_metadata


def _stand_in_for_drn() -> None:
    # The mmaction2 1.2.0 wheel lacks ``mmaction.models.localizers.drn``
    # (upstream issue #2714) but ``localizers/__init__`` imports it.
    name = 'mmaction.models.localizers.drn'
    if name in sys.modules:
        return
    # Look for the files without importing ``mmaction.models`` (that import
    # is exactly what fails).
    spec = importlib.util.find_spec('mmaction')
    if spec is None or spec.origin is None:
        return
    drn_dir = os.path.join(
        os.path.dirname(spec.origin), 'models', 'localizers', 'drn')
    if os.path.exists(os.path.join(drn_dir, 'drn.py')):
        return  # a complete install: nothing to do

    class DRN:  # noqa: D401 - a stand-in, never built by skeleton configs
        """Stand-in for the DRN localizer missing from the mmaction2 wheel."""

        def __init__(self, *args, **kwargs):
            raise NotImplementedError(
                'DRN is missing from the installed mmaction2 1.2.0 wheel; '
                'finetec_mmaction only provides a stand-in so that '
                'mmaction.models imports.')

    package = types.ModuleType(name)
    package.__path__ = []
    module = types.ModuleType(name + '.drn')
    module.DRN = DRN
    package.drn = module
    sys.modules[name] = package
    sys.modules[name + '.drn'] = module


def _disable_multimodal_if_broken() -> None:
    # mmaction imports its VindLU models when ``transformers`` is present;
    # transformers >= 5 removed names they import.
    # Read the version instead of importing transformers (slow, and the
    # import of its removed names is what fails).
    try:
        version = importlib.metadata.version('transformers')
    except importlib.metadata.PackageNotFoundError:
        return
    if int(version.split('.')[0]) < 5:
        return
    try:
        import mmaction.utils.dependency as dependency
    except ImportError:
        return
    dependency.WITH_MULTIMODAL = False


def _numpy2_aliases() -> None:
    # ``PoseCompact`` uses ``np.Inf``, removed in numpy 2.
    import numpy as np
    if not hasattr(np, 'Inf'):
        np.Inf = np.inf


def _trust_local_checkpoints() -> None:
    # torch >= 2.6 loads with ``weights_only=True`` by default, which rejects
    # the mmengine objects (HistoryBuffer, ...) stored in every checkpoint
    # mmengine 0.10.7 writes. Checkpoints you load must therefore be trusted;
    # set FINETEC_WEIGHTS_ONLY=1 to keep torch's default instead.
    if os.environ.get('FINETEC_WEIGHTS_ONLY', '0') == '1':
        return
    if 'TORCH_FORCE_WEIGHTS_ONLY_LOAD' not in os.environ:
        os.environ.setdefault('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', '1')


def _cpu_distributed_init() -> None:
    # mmengine 0.10.7 calls torch.cuda.set_device(local_rank) before
    # init_process_group for every PyTorch launch, which fails on a CPU
    # build of torch; CPU-only DDP (gloo) needs no device to be set.
    import mmengine.dist.utils as dist_utils
    original = dist_utils._init_dist_pytorch
    if getattr(original, '_finetec_cpu_aware', False):
        return

    def init_dist_pytorch(backend, init_backend='torch', **kwargs):
        import torch
        if torch.cuda.is_available() or init_backend != 'torch':
            return original(backend, init_backend=init_backend, **kwargs)
        import torch.distributed as torch_dist
        torch_dist.init_process_group(backend=backend, **kwargs)

    init_dist_pytorch._finetec_cpu_aware = True
    dist_utils._init_dist_pytorch = init_dist_pytorch


class _AtomicTextFile(io.StringIO):
    """A text "file" that collects what is written and, when closed without
    an error, writes it to ``path`` with :func:`atomic_write`."""

    def __init__(self, path) -> None:
        super().__init__()
        self._path = path
        self._failed = False

    def __exit__(self, exc_type, exc, tb):
        self._failed = exc_type is not None
        self.close()
        return False

    def close(self) -> None:
        if not self.closed and not self._failed:
            from .utils.io import atomic_write
            text = self.getvalue()
            atomic_write(self._path, lambda f: f.write(text), mode='w')
        super().close()


def _atomic_checkpoint_writes() -> None:
    # mmengine 0.10.7 writes a checkpoint in place (``save_checkpoint``:
    # torch.save into memory, then ``LocalBackend.put`` opens the final
    # path with 'wb') and ``CheckpointHook`` then rewrites ``last_checkpoint``
    # in place with ``open(..., 'w')``. A run killed during either write
    # leaves a truncated ``.pth`` or an empty pointer as the latest
    # checkpoint, and ``--resume`` then fails. Here both go through a
    # temporary file in the same folder and ``os.replace``
    # (``utils.io.atomic_write``), so a reader sees the old file or the new
    # one, never a part (a killed run may leave a hidden ``.NAME.*.tmp``).
    #
    # * ``save_checkpoint`` is wrapped where it is looked up: in
    #   ``mmengine.runner.checkpoint`` (the strategies import it from there
    #   at call time), ``mmengine.runner`` (``CheckpointHook._publish_model``)
    #   and ``mmengine.runner.runner`` (``Runner.save_checkpoint``, which
    #   imported the name at module import). Only local files are changed;
    #   other backends (petrel, http, pavi) keep mmengine's code.
    # * ``last_checkpoint``: ``open`` is shadowed in the module
    #   ``mmengine.hooks.checkpoint_hook`` only, and only for ``'w'`` on a
    #   file named ``last_checkpoint``; every other call is the builtin.
    import builtins

    import mmengine.hooks.checkpoint_hook as checkpoint_hook
    import mmengine.runner as runner_pkg
    import mmengine.runner.checkpoint as checkpoint_mod
    import mmengine.runner.runner as runner_mod

    original = checkpoint_mod.save_checkpoint
    if not getattr(original, '_finetec_atomic', False):

        def save_checkpoint(checkpoint, filename, file_client_args=None,
                            backend_args=None):
            from mmengine.fileio import LocalBackend, get_file_backend
            local = (isinstance(filename, (str, os.PathLike))
                     and not str(filename).startswith('pavi://')
                     and file_client_args is None and isinstance(
                         get_file_backend(filename, backend_args=backend_args),
                         LocalBackend))
            if not local:
                return original(checkpoint, filename, file_client_args,
                                backend_args)
            import torch
            from .utils.io import atomic_write
            atomic_write(filename, lambda f: torch.save(checkpoint, f))

        save_checkpoint.__doc__ = (
            'mmengine\'s ``save_checkpoint``, writing local files atomically '
            '(finetec_mmaction.compat).\n\n' + (original.__doc__ or ''))
        save_checkpoint._finetec_atomic = True
        save_checkpoint._finetec_original = original
        for module in (checkpoint_mod, runner_pkg, runner_mod):
            module.save_checkpoint = save_checkpoint

    if not getattr(getattr(checkpoint_hook, 'open', None), '_finetec_atomic',
                   False):

        def checkpoint_hook_open(file, mode='r', *args, **kwargs):
            if mode == 'w' and not args and not kwargs and \
                    os.path.basename(os.fspath(file)) == 'last_checkpoint':
                return _AtomicTextFile(file)
            return builtins.open(file, mode, *args, **kwargs)

        checkpoint_hook_open._finetec_atomic = True
        checkpoint_hook.open = checkpoint_hook_open


def _remove_old_checkpoints_after_saving() -> None:
    # mmengine 0.10.7's CheckpointHook removes the outdated checkpoint
    # (``max_keep_ckpts``) and the previous best one (``save_best``) *before*
    # it writes the new one: with ``max_keep_ckpts=1`` a run killed (or a
    # disk that fills up) during the save is left with no checkpoint at all.
    # Both saving methods run here with the hook's file backend collecting
    # removals instead of doing them; once the new checkpoint and the
    # ``last_checkpoint`` pointer are written, the collected files go. If
    # the save fails, nothing is removed. (For a moment the disk holds one
    # checkpoint more than ``max_keep_ckpts``.) A path that was just written
    # again is never removed.
    from mmengine.hooks import CheckpointHook

    def removing_after(method):
        if getattr(method, '_finetec_deferred', False):
            return method

        def wrapper(self, runner, *args, **kwargs):
            backend, pending = self.file_backend, []
            if 'remove' in vars(backend):
                # called from the other one (_save_best_checkpoint saves
                # again): its removals wait for the outer call
                return method(self, runner, *args, **kwargs)
            backend.remove = lambda path: pending.append(('remove', path))
            backend.rmtree = lambda path: pending.append(('rmtree', path))
            try:
                result = method(self, runner, *args, **kwargs)
            finally:  # the class's methods again
                del backend.remove, backend.rmtree
            written = {os.path.abspath(str(p)) for p in (
                getattr(self, 'last_ckpt', None),
                getattr(self, 'best_ckpt_path', None),
                *getattr(self, 'best_ckpt_path_dict', {}).values()) if p}
            for name, path in pending:
                if os.path.abspath(str(path)) not in written:
                    getattr(backend, name)(path)
            return result

        wrapper.__doc__ = method.__doc__
        wrapper._finetec_deferred = True
        return wrapper

    for name in ('_save_checkpoint_with_step', '_save_best_checkpoint'):
        setattr(CheckpointHook, name, removing_after(
            getattr(CheckpointHook, name)))


def apply_compat_fixes() -> None:
    """Apply every fix; safe to call more than once."""
    _alias_importlib_metadata()
    _numpy2_aliases()
    _trust_local_checkpoints()
    _stand_in_for_drn()
    _disable_multimodal_if_broken()
    _cpu_distributed_init()
    _atomic_checkpoint_writes()
    _remove_old_checkpoints_after_saving()
