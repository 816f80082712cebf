"""A content-addressed cache of module ①'s restorations at test time.

A frozen completion module is a fixed function of its input clip: in an
evaluation where many recognizers that share it (the ablations, several
seeds) see the *identical* corrupted test clips -- deterministic test-time
masks make them identical -- its restoration can be computed once per clip
and reused. The retrieval in ① is the expensive part of a test step on CPU.

The key of a clip is a SHA-256 over

* the module's *fingerprint*: its class, every public plain attribute of it
  and of its submodules (the configuration: ``retrieval``, ``base_fill``,
  ``clip_len``...), every parameter and buffer (weights and skeleton bank)
  byte for byte, and the source code of the ``finetec_mmaction`` package
  (a disk cache does not outlive a code change);
* the ``query_in_bank`` flag;
* the clip itself ``(M, T, V, C)`` and its validity mask, with dtype and
  shape.

So a different ① (other weights, another bank, other options) or another
clip never hits. ① restores each clip on its own (one fixed prompt in eval
mode, retrieval per query), which makes per-clip entries valid whatever the
batch; the first batch that hits under a fingerprint is recomputed once and
compared, and a module whose output depends on more than the clip stops
with an error instead of being cached.

Used through :func:`restoration_cache`::

    with restoration_cache(RestorationCache(max_bytes=2**30)) as cache:
        ...  # RecognizerFineTec.restore in eval mode with a frozen ①
    print(cache.summary())
"""
import contextlib
import hashlib
import itertools
import os
import os.path as osp
import weakref
from collections import OrderedDict
from typing import Dict, Iterator, List, Optional

import numpy as np
import torch
from torch import nn

from ...utils.io import atomic_write

_ACTIVE: List['RestorationCache'] = []
_PLAIN = (bool, int, float, str, type(None))
_SOURCE_DIGEST: Optional[str] = None


def _package_source_digest() -> str:
    """SHA-256 of every ``.py`` file of ``finetec_mmaction`` (once)."""
    global _SOURCE_DIGEST
    if _SOURCE_DIGEST is None:
        root = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
        digest = hashlib.sha256()
        for folder, dirs, files in sorted(os.walk(root)):
            dirs.sort()
            for name in sorted(f for f in files if f.endswith('.py')):
                path = osp.join(folder, name)
                digest.update(osp.relpath(path, root).encode())
                with open(path, 'rb') as f:
                    digest.update(f.read())
        _SOURCE_DIGEST = digest.hexdigest()
    return _SOURCE_DIGEST


def _tensor_bytes(t: torch.Tensor) -> bytes:
    t = t.detach().cpu().contiguous().reshape(-1)
    return t.view(torch.uint8).numpy().tobytes() if t.numel() else b''


def _describe(value, digest) -> None:
    """Feed a canonical form of a plain attribute value into ``digest``."""
    if isinstance(value, _PLAIN):
        digest.update(repr((type(value).__name__, value)).encode())
    elif isinstance(value, (list, tuple)):
        digest.update(f'{type(value).__name__}[{len(value)}'.encode())
        for item in value:
            _describe(item, digest)
        digest.update(b']')
    elif isinstance(value, dict):
        digest.update(f'dict[{len(value)}'.encode())
        for key in sorted(value, key=repr):
            _describe(key, digest)
            _describe(value[key], digest)
        digest.update(b']')
    elif isinstance(value, torch.Tensor):
        digest.update(f'tensor{tuple(value.shape)}{value.dtype}'.encode())
        digest.update(_tensor_bytes(value))
    elif isinstance(value, np.ndarray):
        digest.update(f'ndarray{value.shape}{value.dtype}'.encode())
        digest.update(np.ascontiguousarray(value).tobytes())
    else:  # objects without a canonical form: their type at least
        digest.update(f'<{type(value).__qualname__}>'.encode())


def _tensors(module: nn.Module):
    # buffers that are not saved (e.g. a low-pass matrix) count too
    return itertools.chain(module.named_parameters(), module.named_buffers())


def module_fingerprint(module: nn.Module) -> str:
    """SHA-256 of what a module's output depends on: class, configuration
    attributes and state (parameters and buffers) of it and every
    submodule, and the package source (see the module docstring)."""
    digest = hashlib.sha256(_package_source_digest().encode())
    for name, sub in module.named_modules():
        digest.update(f'module {name} {type(sub).__module__}.'
                      f'{type(sub).__qualname__}'.encode())
        for key in sorted(vars(sub)):
            if key.startswith('_') or key == 'training':
                continue
            digest.update(f'.{key}='.encode())
            _describe(vars(sub)[key], digest)
    for name, tensor in _tensors(module):
        digest.update(f'state {name} {tuple(tensor.shape)} '
                      f'{tensor.dtype}'.encode())
        digest.update(_tensor_bytes(tensor))
    return digest.hexdigest()


class RestorationCache:
    """Per-clip memo of a frozen module ①'s output.

    Args:
        max_bytes (int): Memory held by cached clips; the least recently
            used go first. Defaults to 1 GiB.
        directory (str, optional): Also keep every entry on disk there
            (one small file per clip, written atomically), so another
            process or a resumed run reuses it. Defaults to None (memory
            only).
        verify (bool): Recompute the first batch that hits under each
            module fingerprint and compare (see the module docstring).
            Defaults to True.
    """

    def __init__(self, max_bytes: int = 2**30,
                 directory: Optional[str] = None,
                 verify: bool = True) -> None:
        self.max_bytes = int(max_bytes)
        self.directory = directory
        self.verify = verify
        self.hits = 0
        self.misses = 0
        self._memory: 'OrderedDict[str, torch.Tensor]' = OrderedDict()
        self._bytes = 0
        self._verified = set()
        # module -> (state versions, fingerprint): rehash only on change
        self._fingerprints = weakref.WeakKeyDictionary()

    # --------------------------------------------------------------- keys
    def fingerprint(self, module: nn.Module) -> str:
        """:func:`module_fingerprint`, recomputed only when a parameter or
        buffer was replaced or written in place (or an attribute changed,
        which the version signature cannot see, so attributes are part of
        it)."""
        versions = tuple(
            (name, t.data_ptr(), t._version, tuple(t.shape), t.dtype)
            for name, t in _tensors(module))
        attrs = hashlib.sha256()
        for name, sub in module.named_modules():
            for key in sorted(vars(sub)):
                if not key.startswith('_') and key != 'training':
                    attrs.update(f'{name}.{key}='.encode())
                    _describe(vars(sub)[key], attrs)
        signature = (versions, attrs.hexdigest())
        known = self._fingerprints.get(module)
        if known is None or known[0] != signature:
            known = (signature, module_fingerprint(module))
            self._fingerprints[module] = known
        return known[1]

    @staticmethod
    def clip_keys(prefix: str, x: torch.Tensor,
                  valid: torch.Tensor) -> List[str]:
        """One key per clip ``x[i]`` (and its mask ``valid[i]``)."""
        base = hashlib.sha256(
            f'{prefix}|{tuple(x.shape[1:])}|{x.dtype}'.encode())
        keys = []
        for clip, mask in zip(x, valid):
            digest = base.copy()
            digest.update(_tensor_bytes(clip))
            digest.update(_tensor_bytes(mask.to(torch.bool)))
            keys.append(digest.hexdigest())
        return keys

    # ------------------------------------------------------------ storage
    def _path(self, key: str) -> str:
        return osp.join(self.directory, key[:2], f'{key}.pt')

    def _get(self, key: str) -> Optional[torch.Tensor]:
        if key in self._memory:
            self._memory.move_to_end(key)
            return self._memory[key]
        if self.directory and osp.isfile(self._path(key)):
            value = torch.load(self._path(key), map_location='cpu',
                               weights_only=True)
            self._remember(key, value)
            return value
        return None

    def _remember(self, key: str, value: torch.Tensor) -> None:
        size = value.numel() * value.element_size()
        if size > self.max_bytes:
            return
        if key in self._memory:
            return
        self._memory[key] = value
        self._bytes += size
        while self._bytes > self.max_bytes:
            _, old = self._memory.popitem(last=False)
            self._bytes -= old.numel() * old.element_size()

    def _put(self, key: str, value: torch.Tensor) -> None:
        value = value.detach().cpu().clone()
        self._remember(key, value)
        if self.directory and not osp.isfile(self._path(key)):
            atomic_write(self._path(key), lambda f: torch.save(value, f))

    def __len__(self) -> int:
        return len(self._memory)

    # ------------------------------------------------------------- lookup
    def restore(self, completion: nn.Module, x: torch.Tensor,
                valid: torch.Tensor, query_in_bank: bool) -> torch.Tensor:
        """``completion(x, valid, query_in_bank)``, from the cache where
        possible.

        Args:
            completion (nn.Module): The frozen module ①.
            x (torch.Tensor): ``(B, M, T, V, C)`` clips, missing frames zero.
            valid (torch.Tensor): ``(B, M, T)`` bool.
            query_in_bank (bool): Forwarded, and part of the key.

        Returns:
            torch.Tensor: ``S_base`` ``(B, M, T, V, C)`` on ``x.device``.
        """
        fingerprint = self.fingerprint(completion)
        keys = self.clip_keys(f'{fingerprint}|{bool(query_in_bank)}', x,
                              valid)
        cached = [self._get(k) for k in keys]
        todo = [i for i, c in enumerate(cached) if c is None]
        hit = [i for i, c in enumerate(cached) if c is not None]
        if hit and self.verify and fingerprint not in self._verified:
            todo = list(range(len(keys)))  # recompute this batch once
        out = torch.empty_like(x)
        if todo:
            fresh = completion(x[todo], valid[todo], query_in_bank)
            out[todo] = fresh
            for j, i in enumerate(todo):
                if cached[i] is None:
                    self._put(keys[i], fresh[j])
        for i in hit:
            value = cached[i].to(device=x.device, dtype=x.dtype)
            if self.verify and fingerprint not in self._verified:
                if not torch.allclose(value, out[i], rtol=1e-4, atol=1e-5):
                    raise RuntimeError(
                        'RestorationCache: the completion module restored a '
                        'clip differently from the cached restoration of the '
                        'same clip (max difference '
                        f'{(value - out[i]).abs().max().item():.3g}); its '
                        'output depends on more than the clip (the batch, a '
                        'random state), so it cannot be cached.')
            else:
                out[i] = value
        if hit and self.verify:
            self._verified.add(fingerprint)
        self.hits += len(hit)
        self.misses += len(keys) - len(hit)
        return out

    def summary(self) -> str:
        total = self.hits + self.misses
        rate = self.hits / total if total else 0.0
        return (f'restoration cache: {self.hits} hits, {self.misses} misses '
                f'({rate:.1%} reused), {len(self)} clips / '
                f'{self._bytes / 2**20:.1f} MiB in memory'
                + (f', on disk in {self.directory}' if self.directory else ''))

    def state(self) -> Dict:
        return dict(hits=self.hits, misses=self.misses, clips=len(self),
                    bytes=self._bytes)


def active_restoration_cache() -> Optional[RestorationCache]:
    """The cache of the innermost :func:`restoration_cache` block, if any."""
    return _ACTIVE[-1] if _ACTIVE else None


@contextlib.contextmanager
def restoration_cache(
        cache: Optional[RestorationCache] = None,
        **kwargs) -> Iterator[RestorationCache]:
    """Use ``cache`` (or a new ``RestorationCache(**kwargs)``) for the
    frozen ① of every :class:`RecognizerFineTec` in eval mode inside the
    block."""
    cache = cache if cache is not None else RestorationCache(**kwargs)
    _ACTIVE.append(cache)
    try:
        yield cache
    finally:
        _ACTIVE.remove(cache)
