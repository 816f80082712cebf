"""Optimizer wrappers (registered in MMAction2's ``OPTIM_WRAPPERS``)."""
from .amp_optim_wrapper import AutocastOptimWrapper, bf16_supported, enable_amp

__all__ = ['AutocastOptimWrapper', 'bf16_supported', 'enable_amp']
