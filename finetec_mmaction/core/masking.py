"""Temporal masking strategies: which frames of a sequence go missing.

This is the single implementation behind :class:`TemporalCorruption` (data
pipeline) and the prompt masking of the completion network (model). It is
framework-free: it works on frame counts and numpy random generators and
returns a boolean *validity* mask of shape ``(T,)`` (``True`` = observed).

Protocol (SPEC §0): a ratio ``r`` drops exactly ``ceil(r * T)`` frames of the
original sequence, clipped to ``T - 1`` so that at least one frame survives.
"""
import math
import zlib
from typing import Optional, Sequence, Tuple, Union

import numpy as np

#: Severity levels of the FineTec protocol (fraction of frames missing).
SEVERITY_LEVELS = {'clean': 0.0, 'minor': 0.25, 'moderate': 0.5,
                   'severe': 0.75}

#: Strategies that need no joint coordinates.
TIMING_STRATEGIES = ('random', 'pattern', 'prefix', 'suffix', 'in-between',
                     'burst')
#: Every concrete strategy; ``'mixed'`` picks one of these per sample.
STRATEGIES = TIMING_STRATEGIES + ('motion', )
#: The five strategies of the paper (prompt masking of module ①).
PAPER_STRATEGIES = ('random', 'pattern', 'prefix', 'suffix', 'in-between')

RatioSpec = Union[float, str, Tuple[float, float]]


def check_strategy(strategy: str) -> str:
    """``strategy`` if it is one of :data:`STRATEGIES` or ``'mixed'``,
    else a ``ValueError`` that lists them."""
    if strategy != 'mixed' and strategy not in STRATEGIES:
        raise ValueError(f'Unknown strategy {strategy!r}; expected one of '
                         f'{STRATEGIES + ("mixed", )}.')
    return strategy


def resolve_ratio(ratio: RatioSpec,
                  rng: Optional[np.random.Generator] = None) -> float:
    """Turn a level name, a float or a ``(low, high)`` range into a ratio.

    A range is sampled uniformly with ``rng`` (prompt masking uses
    ``(0.2, 0.8)``).
    """
    if isinstance(ratio, str):
        if ratio not in SEVERITY_LEVELS:
            raise ValueError(f'Unknown severity level {ratio!r}; expected one '
                             f'of {sorted(SEVERITY_LEVELS)} or a float.')
        return SEVERITY_LEVELS[ratio]
    if isinstance(ratio, (tuple, list)):
        if len(ratio) != 2 or not 0 <= ratio[0] <= ratio[1] <= 1:
            raise ValueError(f'A ratio range must be (low, high) with '
                             f'0 <= low <= high <= 1, got {ratio!r}.')
        rng = rng if rng is not None else np.random.default_rng()
        return float(rng.uniform(ratio[0], ratio[1]))
    ratio = float(ratio)
    if not 0.0 <= ratio <= 1.0 or math.isnan(ratio):
        raise ValueError(f'A missing ratio must lie in [0, 1], got {ratio}.')
    return ratio


def parse_ratio(value) -> float:
    """A fixed missing ratio from the command line: ``'0.75'`` or a level
    name (``'minor'``, ``'moderate'``, ``'severe'``, ``'clean'``)."""
    if isinstance(value, (tuple, list)):
        raise ValueError('The benchmark evaluates fixed ratios, not ranges.')
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            pass
    return resolve_ratio(value)


def num_missing_frames(num_frames: int, ratio: float) -> int:
    """``ceil(ratio * T)`` frames, but never all of them.

    Args:
        num_frames (int): Sequence length ``T`` (>= 0).
        ratio (float): Fraction of frames to drop, in ``[0, 1]``.
    """
    if num_frames <= 1:
        return 0
    # round() first so that 0.25 * 8 is 2, not ceil(2.0000000001) = 3
    n = math.ceil(round(ratio * num_frames, 9))
    return int(min(max(n, 0), num_frames - 1))


def stable_seed(seed: int, key: str) -> int:
    """A seed that depends only on ``(seed, key)``, stable across runs.

    Python's ``hash`` is salted per process, so a CRC of the key is used:
    every method, worker and rank sees the identical test-time mask.
    """
    return (int(seed) * 1_000_003 + zlib.crc32(str(key).encode())) % (2**32)


def frame_speed(keypoint: np.ndarray) -> np.ndarray:
    """Per-frame joint speed used by the ``motion`` strategy.

    Args:
        keypoint (np.ndarray): ``(M, T, V, C)`` coordinates.

    Returns:
        np.ndarray: ``(T,)`` mean joint displacement to the neighbouring
        frames (mean of the backward and forward differences).
    """
    kp = np.asarray(keypoint, dtype=np.float64)
    num_frames = kp.shape[1]
    if num_frames < 2:
        return np.zeros(num_frames)
    step = np.linalg.norm(np.diff(kp, axis=1), axis=-1).mean(axis=(0, 2))
    speed = np.zeros(num_frames)
    speed[1:] += step
    speed[:-1] += step
    speed[1:-1] /= 2
    return speed


def _contiguous_block(num_frames, n, rng):
    # in-between: one gap with observed frames on both sides where possible
    if n <= num_frames - 2:
        start = int(rng.integers(1, num_frames - n))  # in [1, T - n - 1]
    else:
        start = int(rng.integers(0, num_frames - n + 1))
    return np.arange(start, start + n)


def _bursts(num_frames, n, rng, num_bursts):
    # split n missing frames into up to `num_bursts` gaps separated by at
    # least one observed frame, at random positions.
    kept = num_frames - n
    num_bursts = int(max(1, min(num_bursts, n, kept + 1)))
    # gap lengths: a random composition of n into num_bursts positive parts
    cuts = np.sort(rng.choice(np.arange(1, n), num_bursts - 1, replace=False)) \
        if num_bursts > 1 else np.array([], dtype=int)
    lengths = np.diff(np.concatenate([[0], cuts, [n]]))
    # observed runs: num_bursts + 1 runs, the inner ones at least 1 long
    inner = num_bursts - 1
    spare = kept - inner
    split = rng.multinomial(spare, np.ones(num_bursts + 1) / (num_bursts + 1))
    runs = split.copy()
    runs[1:-1] += 1
    missing, t = [], 0
    for i, length in enumerate(lengths):
        t += runs[i]
        missing.append(np.arange(t, t + length))
        t += length
    return np.concatenate(missing)


def _periodic(num_frames, n, rng):
    # pattern: n frames spread evenly over the sequence with a random phase
    phase = rng.uniform(0, 1)
    idx = np.floor((np.arange(n) + phase) * num_frames / n).astype(int)
    return np.clip(idx, 0, num_frames - 1)


def sample_valid_mask(num_frames: int,
                      ratio: float,
                      strategy: str = 'random',
                      rng: Optional[np.random.Generator] = None,
                      speed: Optional[np.ndarray] = None,
                      num_bursts: int = 3,
                      motion_power: float = 2.0) -> np.ndarray:
    """Sample which frames of a ``T``-frame sequence are observed.

    Args:
        num_frames (int): ``T``.
        ratio (float): Fraction of frames to drop (see
            :func:`num_missing_frames`).
        strategy (str): One of :data:`STRATEGIES`.
        rng (np.random.Generator, optional): Source of randomness.
        speed (np.ndarray, optional): ``(T,)`` per-frame speed, required by
            ``'motion'`` (see :func:`frame_speed`).
        num_bursts (int): Number of gaps of the ``'burst'`` strategy.
        motion_power (float): ``'motion'`` drops frame ``t`` with
            probability proportional to ``(speed_t + eps) ** motion_power``.

    Returns:
        np.ndarray: ``(T,)`` bool, ``True`` where the frame is kept. Exactly
        ``num_missing_frames(T, ratio)`` entries are ``False``.
    """
    if strategy not in STRATEGIES:
        raise ValueError(f'Unknown masking strategy {strategy!r}; expected '
                         f'one of {STRATEGIES} (or "mixed" in the transform).')
    rng = rng if rng is not None else np.random.default_rng()
    valid = np.ones(num_frames, dtype=bool)
    n = num_missing_frames(num_frames, ratio)
    if n == 0:
        return valid
    if strategy == 'random':
        missing = rng.choice(num_frames, n, replace=False)
    elif strategy == 'pattern':
        missing = _periodic(num_frames, n, rng)
    elif strategy == 'prefix':
        missing = np.arange(n)
    elif strategy == 'suffix':
        missing = np.arange(num_frames - n, num_frames)
    elif strategy == 'in-between':
        missing = _contiguous_block(num_frames, n, rng)
    elif strategy == 'burst':
        missing = _bursts(num_frames, n, rng, num_bursts)
    else:  # motion
        if speed is None or len(speed) != num_frames:
            raise ValueError('The "motion" strategy needs the per-frame speed '
                             f'of all {num_frames} frames.')
        weight = (np.nan_to_num(np.asarray(speed, np.float64)) +
                  1e-6)**motion_power
        missing = rng.choice(num_frames, n, replace=False, p=weight /
                             weight.sum())
    valid[missing] = False
    return valid


def choose_strategy(strategy: str, rng: np.random.Generator,
                    choices: Sequence[str] = STRATEGIES) -> str:
    """Resolve ``'mixed'`` to a concrete strategy drawn from ``choices``."""
    if strategy == 'mixed':
        return str(rng.choice(list(choices)))
    return strategy
