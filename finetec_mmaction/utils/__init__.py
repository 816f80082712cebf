from .dist import use_gloo_without_cuda

__all__ = ['use_gloo_without_cuda']
