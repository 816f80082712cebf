"""Seeded random draws that can be replayed: ②'s test-time variants
without a random op in the computation (so the model exports to ONNX)."""
from typing import List, Optional, Sequence, Tuple, Union

import torch


class ReplayedDraws:
    """The random draws of one seeded generator, made once and replayed.

    Pass it as the ``generator`` of :func:`~.perturbation.perturb_dynamic`,
    :func:`~.perturbation.perturb_static` or
    :func:`~.perturbation.decompose_regions` to give every sample
    of a batch the draws of ``torch.Generator().manual_seed(seed)``: the
    numbers are drawn on first use, per sample (``group`` sequences, e.g.
    the ``M`` persons), and then replayed, the same for each sample and each
    call. Call :meth:`rewind` before each use. No Python loop over the
    samples and no random op is left in the computation, so a model whose
    test-time variants are seeded exports to ONNX with the same numbers.

    Args:
        seed (int): Seed of the generator.
        group (int): Sequences per sample; a draw for ``N = B * group``
            sequences is the draw for ``group`` sequences tiled ``B`` times.
    """

    def __init__(self, seed: int, group: int = 1) -> None:
        self.seed = int(seed)
        self.group = int(group)
        self._draws: List[Tuple[str, Tuple[int, ...], torch.Tensor]] = []
        self._next = 0
        self._generator: Optional[torch.Generator] = None

    def rewind(self) -> 'ReplayedDraws':
        """Replay from the first draw."""
        self._next = 0
        return self

    def draw(self, kind: str, shape: Sequence[int]) -> torch.Tensor:
        """The next draw, ``'rand'`` or ``'randn'``, of ``shape`` (its first
        dim a multiple of ``group``)."""
        shape = tuple(int(d) for d in shape)
        if shape[0] % self.group:
            raise ValueError(f'A draw for {shape[0]} sequences is not made '
                             f'of samples of {self.group}.')
        size = (self.group, ) + shape[1:]
        if self._next == len(self._draws):
            if self._generator is None:
                self._generator = torch.Generator().manual_seed(self.seed)
            sample = torch.rand if kind == 'rand' else torch.randn
            self._draws.append(
                (kind, size, sample(size, generator=self._generator)))
        recorded_kind, recorded_size, value = self._draws[self._next]
        if (recorded_kind, recorded_size) != (kind, size):
            raise RuntimeError(
                f'Draw {self._next} asks for {kind}{size}, but {recorded_kind}'
                f'{recorded_size} was recorded: call rewind() before each '
                'use and keep one ReplayedDraws per input shape.')
        self._next += 1
        return value.repeat((shape[0] // self.group, ) +
                            (1, ) * (value.dim() - 1))


RandomSource = Union[torch.Generator, ReplayedDraws, None]


def draw(kind: str, shape: Sequence[int], generator: RandomSource, device):
    """``torch.rand`` / ``torch.randn`` of ``shape`` from ``generator``
    (drawn on the CPU, as the seeded draws are), moved to ``device``."""
    if isinstance(generator, ReplayedDraws):
        return generator.draw(kind, shape).to(device)
    sample = torch.rand if kind == 'rand' else torch.randn
    return sample(tuple(shape), generator=generator).to(device)
