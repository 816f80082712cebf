"""Mixed-precision training that also works without a GPU.

mmengine 0.10.7's ``AmpOptimWrapper`` asserts that CUDA (or NPU/MLU/MUSA) is
available, so ``tools/train.py --amp`` stops on a CPU machine. On top of
that, any bfloat16 autocast breaks MMAction2's heads: ``BaseHead.loss_by_feat``
computes the logged top-k accuracy with ``cls_scores.detach().cpu().numpy()``,
and numpy has no bfloat16 (the same happens with ``AmpOptimWrapper(dtype=
'bfloat16')`` on a GPU).

:class:`AutocastOptimWrapper` runs the forward pass under
``torch.autocast(device_type, dtype)`` (``bfloat16`` by default, on the
device of the model's parameters), without loss scaling (bfloat16 has the
exponent range of float32, so gradients do not underflow), and casts the
class scores of every MMAction2 head back to float32, so the loss and the
accuracy are computed in float32 as autocast does for losses anyway.

:func:`enable_amp` is what ``tools/train.py --amp`` does with a config:
``AutocastOptimWrapper`` (bfloat16) on CPU and on GPUs that support
bfloat16, mmengine's ``AmpOptimWrapper`` (float16, dynamic loss scale) on
older GPUs.
"""
from contextlib import ExitStack, contextmanager
from typing import Optional, Union

import torch
import torch.nn as nn
from mmengine.optim import OptimWrapper

from mmaction.registry import OPTIM_WRAPPERS

#: optim wrapper types that ``--amp`` may replace
AMP_REPLACEABLE = ('OptimWrapper', 'AmpOptimWrapper', 'AutocastOptimWrapper')
_DTYPES = {'bfloat16': torch.bfloat16, 'float16': torch.float16}


def _to_float32(module, args, output):
    """Forward hook: floating-point outputs back to float32."""
    if isinstance(output, torch.Tensor) and output.is_floating_point():
        return output.float()
    return output


def _heads(model: nn.Module):
    from mmaction.models.heads.base import BaseHead
    return [m for m in model.modules() if isinstance(m, BaseHead)]


@OPTIM_WRAPPERS.register_module()
class AutocastOptimWrapper(OptimWrapper):
    """``OptimWrapper`` whose forward pass runs under ``torch.autocast``.

    Works on CPU (bfloat16 only: that is what CPU autocast supports) and on
    CUDA. There is no loss scaler: use it with bfloat16; float16 needs
    mmengine's ``AmpOptimWrapper`` (dynamic loss scaling).

    Args:
        dtype (str | torch.dtype): Autocast dtype. Defaults to
            ``'bfloat16'``.
        device_type (str, optional): ``'cpu'`` or ``'cuda'``. Defaults to
            the device of the model's first parameter.
        float32_heads (bool): Cast the outputs of MMAction2 heads
            (``BaseHead`` subclasses, e.g. ``GCNHead``) to float32, so their
            loss and logged accuracy work. Defaults to True.
        **kwargs: ``OptimWrapper`` arguments (``optimizer``,
            ``accumulative_counts``, ``clip_grad``).
    """

    def __init__(self,
                 dtype: Union[str, torch.dtype] = 'bfloat16',
                 device_type: Optional[str] = None,
                 float32_heads: bool = True,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        if isinstance(dtype, str):
            if dtype not in _DTYPES:
                raise ValueError(f'dtype must be one of {sorted(_DTYPES)}, '
                                 f'got {dtype!r}.')
            dtype = _DTYPES[dtype]
        if device_type not in (None, 'cpu', 'cuda'):
            raise ValueError('device_type must be "cpu", "cuda" or None, got '
                             f'{device_type!r}.')
        if dtype == torch.float16:
            raise ValueError(
                'AutocastOptimWrapper has no loss scaler, so float16 '
                'gradients may underflow: use dtype="bfloat16", or '
                "mmengine's AmpOptimWrapper for float16.")
        self.cast_dtype = dtype
        self.device_type = device_type
        self.float32_heads = float32_heads

    @staticmethod
    def _device_type(model: nn.Module) -> str:
        param = next(model.parameters(), None)
        return 'cpu' if param is None else param.device.type

    @contextmanager
    def optim_context(self, model: nn.Module):
        """Gradient-accumulation context of ``OptimWrapper`` plus autocast
        (and the float32 head outputs) for the forward pass."""
        device_type = self.device_type or self._device_type(model)
        with ExitStack() as stack:
            stack.enter_context(super().optim_context(model))
            stack.enter_context(
                torch.autocast(device_type=device_type,
                               dtype=self.cast_dtype))
            if self.float32_heads:
                for head in _heads(getattr(model, 'module', model)):
                    stack.callback(
                        head.register_forward_hook(_to_float32).remove)
            yield


def bf16_supported(device: Optional[str] = None) -> bool:
    """Whether bfloat16 autocast is available on ``device`` (default: CUDA
    when available, else CPU). CPU autocast always supports bfloat16 (fast
    only on CPUs with AVX512-BF16/AMX; elsewhere it is emulated and slower
    than float32)."""
    if device is None:
        device = 'cuda' if torch.cuda.is_available() else 'cpu'
    if device.startswith('cuda'):
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    return True


def enable_amp(cfg, device: Optional[str] = None) -> None:
    """Switch a config's ``optim_wrapper`` to mixed precision (in place), as
    ``tools/train.py --amp`` does.

    - CPU (no CUDA), or a GPU with bfloat16 support:
      ``AutocastOptimWrapper(dtype='bfloat16')``.
    - A GPU without bfloat16 (before Ampere), or ``optim_wrapper.dtype=
      'float16'`` in the config: mmengine's ``AmpOptimWrapper`` (float16,
      ``loss_scale='dynamic'``), like stock MMAction2.

    A ``dtype`` already in ``cfg.optim_wrapper`` is kept: ``'float16'``
    selects ``AmpOptimWrapper`` (CUDA only).

    Args:
        cfg (Config): The config; ``cfg.optim_wrapper`` must be an
            ``OptimWrapper``, ``AmpOptimWrapper`` or ``AutocastOptimWrapper``.
        device (str, optional): ``'cpu'`` or ``'cuda'``; default: CUDA when
            available.
    """
    wrapper = cfg.optim_wrapper.get('type', 'OptimWrapper')
    if wrapper not in AMP_REPLACEABLE:
        raise ValueError(f'`--amp` is not supported with the custom optimizer '
                         f'wrapper type `{wrapper}`.')
    if device is None:
        device = 'cuda' if torch.cuda.is_available() else 'cpu'
    dtype = cfg.optim_wrapper.get('dtype')
    dtype = str(dtype).replace('torch.', '') if dtype is not None else None
    if dtype in (None, 'bfloat16') and bf16_supported(device):
        for key in ('loss_scale', 'use_fsdp'):  # AmpOptimWrapper-only keys
            cfg.optim_wrapper.pop(key, None)
        cfg.optim_wrapper.type = 'AutocastOptimWrapper'
        cfg.optim_wrapper.dtype = 'bfloat16'
    elif device.startswith('cuda'):
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
        cfg.optim_wrapper.dtype = dtype or 'float16'
    else:
        raise ValueError(f'CPU autocast supports bfloat16 only, but the '
                         f'config asks for optim_wrapper.dtype={dtype!r}.')
