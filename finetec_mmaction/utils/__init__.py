from .dist import use_gloo_without_cuda
from .io import atomic_write, resolve_checkpoint

__all__ = ['atomic_write', 'resolve_checkpoint', 'use_gloo_without_cuda']
