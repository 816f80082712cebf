"""Compatibility fixes for the OpenMMLab stack on current Python/torch/numpy.

Every fix here must run before anything imports ``mmaction.models``; the
package ``__init__`` calls :func:`apply_compat_fixes` first. Each fix is
idempotent and only touches what is broken (see ``STACK.md`` in the repo
notes for the symptoms).
"""
import importlib
import importlib.metadata
import importlib.util
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


def apply_compat_fixes() -> None:
    """Apply every fix; safe to call more than once."""
    _alias_importlib_metadata()
    _numpy2_aliases()
    _trust_local_checkpoints()
    _stand_in_for_drn()
    _disable_multimodal_if_broken()
    _cpu_distributed_init()
