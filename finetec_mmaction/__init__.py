"""FineTec for MMAction2.

Importing this package first applies the compatibility fixes the OpenMMLab
stack needs here (see :mod:`finetec_mmaction.compat`), then registers every
FineTec dataset, transform, model, metric and hook in MMAction2's
registries.
Load it from a config with ``custom_imports = dict(imports=['finetec_mmaction'])``.
"""
from .compat import apply_compat_fixes

apply_compat_fixes()

from . import datasets, engine, evaluation, models, utils  # noqa: E402,F401
from .version import __version__  # noqa: E402,F401
