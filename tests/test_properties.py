"""Property tests (hypothesis) of the missing-frame corruption, the classical
fills and the region decomposition, alone and after the stock MMAction2
pieces that precede them in a pipeline.

Inputs: any ``T >= 1``, 1 or 2 persons, COCO-17 2D pixels with scores
(float32 or float16, as Gym288) or NTU-25 3D joints (float32, or float64 as
``PreNormalize3D`` returns them), smooth, motionless or jumpy motion; any
missing ratio (floats in [0, 1] incl. both ends, the named levels,
``(low, high)`` ranges), every strategy, train and test mode.

Deterministic for CI: no example database, derandomized generation.
"""
import copy
import math
from decimal import Decimal
from fractions import Fraction

import numpy as np
import torch
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from mmengine.dataset import Compose

import finetec_mmaction  # noqa: F401  (compat fixes + registration first)
from finetec_mmaction.core import (FLIP_INDEX, REGIONS, SEVERITY_LEVELS,
                                   STRATEGIES, decompose_regions,
                                   fill_missing_frames, frame_validity,
                                   gap_distances, num_missing_frames,
                                   region_motion, sample_valid_mask)
from finetec_mmaction.core.fill import FILLS, neighbour_frames
from finetec_mmaction.models.decomposition import SpatialDecomposition
from mmaction.registry import TRANSFORMS

#: One profile for every property: no database, derandomized, no deadline
#: (a shared 2-core CI machine makes per-example timings meaningless).
PROPERTY = settings(
    database=None,
    derandomize=True,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def examples(n):
    return settings(PROPERTY, max_examples=n)


LAYOUTS = {'coco': (17, 2), 'nturgb+d': (25, 3)}
ALL_STRATEGIES = STRATEGIES + ('mixed', )


# ----------------------------------------------------------------------------
# Data
# ----------------------------------------------------------------------------
def make_sample(layout, num_person, num_frames, dtype, motion, seed,
                frame_dir='sample'):
    """A raw skeleton sample in MMAction2's PoseDataset layout.

    ``coco``: pixel coordinates in a 1280x720 image and a score in
    [0.05, 1]; ``nturgb+d``: metres, camera 2-4 m away, no score. No frame
    of any person is all zero, so the zeros mark exactly the dropped frames.
    """
    rng = np.random.default_rng(seed)
    V, C = LAYOUTS[layout]
    M, T = num_person, num_frames
    if layout == 'coco':
        low, high = np.array([100., 100.]), np.array([1180., 620.])
        amp = 60.
    else:
        low, high = np.array([-1., -1., 2.]), np.array([1., 1., 4.])
        amp = .3
    base = rng.uniform(low, high, (M, 1, V, C))
    t = np.arange(T, dtype=np.float64)[None, :, None, None]
    if motion == 'smooth':
        freq = rng.uniform(0.05, 0.6, (M, 1, V, 1))
        phase = rng.uniform(0, 2 * np.pi, (M, 1, V, C))
        kp = base + amp * np.sin(freq * t + phase)
    elif motion == 'static':  # motionless: every frame identical
        kp = np.repeat(base, T, axis=1)
    else:  # jumpy: independent noise per frame
        kp = base + rng.normal(0, amp, (M, T, V, C))
    kp = np.clip(kp, low, high)
    sample = dict(
        frame_dir=frame_dir, label=1, total_frames=T, start_index=0,
        modality='Pose', keypoint=kp.astype(dtype))
    if layout == 'coco':
        sample['img_shape'] = (720, 1280)
        sample['original_shape'] = (720, 1280)
        sample['keypoint_score'] = rng.uniform(
            0.05, 1.0, (M, T, V)).astype(dtype)
    return sample


@st.composite
def samples(draw, max_frames=40, layouts=tuple(LAYOUTS)):
    layout = draw(st.sampled_from(layouts))
    dtypes = ([np.float32, np.float16] if layout == 'coco' else
              [np.float32, np.float64])
    return make_sample(
        layout,
        num_person=draw(st.integers(1, 2)),
        num_frames=draw(st.integers(1, max_frames)),
        dtype=draw(st.sampled_from(dtypes)),
        motion=draw(st.sampled_from(['smooth', 'static', 'jumpy'])),
        seed=draw(st.integers(0, 2**32 - 1)),
        frame_dir=draw(st.sampled_from(['S001C001P001R001A001', 'a', '42'])))


def _range(pair):
    low, high = sorted(pair)
    return (low, high)


#: Every form a ratio takes in a config.
ratios = st.one_of(
    st.floats(0.0, 1.0),  # incl. 0, 1, subnormals
    st.sampled_from([0.0, 1.0, 0.1, 0.25, 0.3, 0.5, 0.7, 0.75, 0.9, 0.99,
                     1 / 3]),
    st.integers(0, 1000).map(lambda k: k / 1000),  # what people write
    st.sampled_from(sorted(SEVERITY_LEVELS)),
    st.tuples(st.floats(0.0, 1.0), st.floats(0.0, 1.0)).map(_range),
    st.sampled_from([(0.2, 0.8), (0.0, 1.0), (1.0, 1.0), (0.5, 0.5)]),
)


def missing_bounds(num_frames, ratio):
    """Allowed number of dropped frames: ``ceil(ratio * T)`` of the exact
    value of the float, clipped to ``T - 1``; the protocol's rounding to 9
    decimals (so that 0.1 * 10 is 1 frame, not 2) may take one less when
    ``ratio * T`` lies within 1e-9 above an integer."""
    if num_frames <= 1:
        return 0, 0
    x = Fraction(ratio) * num_frames
    low = math.ceil(x - Fraction(1, 10**9))
    high = math.ceil(x)
    return min(low, num_frames - 1), min(high, num_frames - 1)


def decimal_missing(num_frames, ratio):
    """``ceil(ratio * T)`` of the decimal the user wrote (``repr``)."""
    if num_frames <= 1:
        return 0
    return min(math.ceil(Fraction(repr(ratio)) * num_frames), num_frames - 1)


def is_short_decimal(ratio):
    """At most 6 decimals, as a ratio in a config is written."""
    return Decimal(repr(ratio)).as_tuple().exponent >= -6


def runs(mask):
    """Number of maximal runs of ``True`` in a 1D bool array."""
    m = np.r_[False, np.asarray(mask, bool), False].astype(int)
    return int((np.diff(m) == 1).sum())


def bits(a):
    return np.ascontiguousarray(a).tobytes()


def assert_bits_equal(a, b):
    assert a.dtype == b.dtype and a.shape == b.shape
    assert bits(a) == bits(b)


# ----------------------------------------------------------------------------
# core/masking.py: the mask alone
# ----------------------------------------------------------------------------
@examples(200)
@given(num_frames=st.integers(0, 120), ratio=st.floats(0.0, 1.0),
       strategy=st.sampled_from(STRATEGIES), seed=st.integers(0, 2**32 - 1),
       num_bursts=st.integers(1, 6))
def test_mask_drops_ceil_ratio_frames(num_frames, ratio, strategy, seed,
                                      num_bursts):
    rng = np.random.default_rng(seed)
    speed = rng.uniform(0, 5, num_frames) * (rng.random() < 0.8)
    valid = sample_valid_mask(num_frames, ratio, strategy, rng, speed=speed,
                              num_bursts=num_bursts)
    assert valid.shape == (num_frames, ) and valid.dtype == bool
    n = int((~valid).sum())
    low, high = missing_bounds(num_frames, ratio)
    assert low <= n <= high
    assert n == num_missing_frames(num_frames, ratio)
    if is_short_decimal(ratio):
        assert n == decimal_missing(num_frames, ratio)
    if num_frames:
        assert valid.any(), 'never drops every frame'
    missing = np.flatnonzero(~valid)
    if n and strategy == 'prefix':
        assert missing.tolist() == list(range(n))
    if n and strategy == 'suffix':
        assert missing.tolist() == list(range(num_frames - n, num_frames))
    if n and strategy == 'in-between':
        assert runs(~valid) == 1
        if n <= num_frames - 2:
            assert valid[0] and valid[-1], 'observed on both sides'
    if n and strategy == 'burst':
        assert 1 <= runs(~valid) <= num_bursts
        assert runs(~valid) == min(num_bursts, n, num_frames - n + 1)
    if n > 1 and strategy == 'pattern':
        gaps = np.diff(missing)
        assert gaps.max() - gaps.min() <= 1, 'evenly spread'


# ----------------------------------------------------------------------------
# TemporalCorruption
# ----------------------------------------------------------------------------
def check_corruption(clean, out, ratio, strategy):
    """Everything a corrupted sample must satisfy."""
    kp, kp0 = out['keypoint'], clean['keypoint']
    M, T = kp0.shape[:2]
    valid = out['frame_valid']
    assert kp.shape == kp0.shape and kp.dtype == kp0.dtype
    assert valid.shape == (T, ) and valid.dtype == bool
    # ratio and strategy resolved and recorded
    r = out['corrupt_ratio']
    assert isinstance(r, float) and 0.0 <= r <= 1.0
    if isinstance(ratio, str):
        assert r == SEVERITY_LEVELS[ratio]
    elif isinstance(ratio, tuple):
        assert ratio[0] <= r <= ratio[1]
    else:
        assert r == ratio
    if strategy == 'mixed':
        assert out['corrupt_strategy'] in STRATEGIES
    else:
        assert out['corrupt_strategy'] == strategy
    # exactly ceil(r * T) dropped, never all
    n = int((~valid).sum())
    low, high = missing_bounds(T, r)
    assert low <= n <= high
    assert n == num_missing_frames(T, r)
    if is_short_decimal(r):
        assert n == decimal_missing(T, r)
    assert valid.any()
    # dropped frames exactly zero, coordinates and score; the rest untouched
    assert np.all(kp[:, ~valid] == 0)
    assert_bits_equal(kp[:, valid], kp0[:, valid])
    if 'keypoint_score' in clean:
        score, score0 = out['keypoint_score'], clean['keypoint_score']
        assert score.shape == score0.shape and score.dtype == score0.dtype
        assert np.all(score[:, ~valid] == 0)
        assert_bits_equal(score[:, valid], score0[:, valid])
    # the mask can be read back from the zeros, per person
    np.testing.assert_array_equal(
        frame_validity(kp), frame_validity(kp0) & valid[None])
    np.testing.assert_array_equal(frame_validity(kp).any(0), valid)
    return valid


@examples(150)
@given(sample=samples(), ratio=ratios,
       strategy=st.sampled_from(ALL_STRATEGIES), test_mode=st.booleans(),
       keep_clean=st.booleans(), seed=st.integers(0, 2**31 - 1))
def test_temporal_corruption(sample, ratio, strategy, test_mode, keep_clean,
                             seed):
    np.random.seed(seed % 2**32)
    clean = copy.deepcopy(sample)
    corrupt = TRANSFORMS.build(
        dict(type='TemporalCorruption', ratio=ratio, strategy=strategy,
             test_mode=test_mode, keep_clean=keep_clean, seed=seed))
    inputs = {k: sample[k] for k in ('keypoint', 'keypoint_score')
              if k in sample}
    out = corrupt(sample)
    valid = check_corruption(clean, out, ratio, strategy)
    # the input arrays are not modified in place
    for key, array in inputs.items():
        assert_bits_equal(array, clean[key])
    if keep_clean:
        assert_bits_equal(out['keypoint_clean'], clean['keypoint'])
        if 'keypoint_score' in clean:
            assert_bits_equal(out['keypoint_score_clean'],
                              clean['keypoint_score'])
    else:
        assert 'keypoint_clean' not in out

    # the same mask again: per (seed, frame_dir) in test mode whatever the
    # global seed, per global seed in training
    if test_mode:
        np.random.seed((seed + 1) % 2**32)
    else:
        np.random.seed(seed % 2**32)
    again = corrupt(copy.deepcopy(clean))
    np.testing.assert_array_equal(again['frame_valid'], valid)
    assert_bits_equal(again['keypoint'], out['keypoint'])
    assert again['corrupt_strategy'] == out['corrupt_strategy']


@examples(40)
@given(sample=samples(max_frames=30), first=ratios, second=ratios,
       strategy=st.sampled_from(ALL_STRATEGIES))
def test_corruption_combines_with_an_earlier_mask(sample, first, second,
                                                  strategy):
    clean = copy.deepcopy(sample)
    out = TRANSFORMS.build(
        dict(type='TemporalCorruption', ratio=first, strategy=strategy,
             test_mode=True))(sample)
    first_valid = out['frame_valid'].copy()
    out = TRANSFORMS.build(
        dict(type='TemporalCorruption', ratio=second, strategy='random',
             test_mode=True, seed=1))(out)
    valid = out['frame_valid']
    assert not np.any(valid & ~first_valid), 'a dropped frame stays dropped'
    assert np.all(out['keypoint'][:, ~valid] == 0)
    assert_bits_equal(out['keypoint'][:, valid], clean['keypoint'][:, valid])
    np.testing.assert_array_equal(frame_validity(out['keypoint']).any(0),
                                  valid)


# ----------------------------------------------------------------------------
# Fills: the transforms
# ----------------------------------------------------------------------------
def expected_nearest_source(valid):
    kept = np.flatnonzero(valid)
    t = np.arange(len(valid))[:, None]
    # nearest observed frame, the earlier one on a tie
    return kept[np.argmin(np.abs(t - kept[None]), axis=1)]


def check_fill(corrupted, filled, valid, method):
    T = len(valid)
    kept = np.flatnonzero(valid)
    for key in ('keypoint', 'keypoint_score'):
        if key not in corrupted:
            continue
        a, b = corrupted[key], filled[key]
        assert b.shape == a.shape and b.dtype == a.dtype
        assert np.isfinite(b).all()
        # observed frames untouched, bit for bit
        assert_bits_equal(b[:, valid], a[:, valid])
        if method == 'nearest':
            src = expected_nearest_source(valid)
            assert_bits_equal(b, a[:, src])
            continue
        # interpolation: frames outside the observed range repeat the end
        # frame
        first, last = kept[0], kept[-1]
        assert_bits_equal(b[:, :first], np.repeat(a[:, first:first + 1],
                                                  first, 1))
        assert_bits_equal(b[:, last + 1:],
                          np.repeat(a[:, last:last + 1], T - last - 1, 1))
        if method == 'linear':
            # inside: the straight line between the observed neighbours
            for t in np.flatnonzero(~valid):
                if not first < t < last:
                    continue
                p, n = kept[kept < t][-1], kept[kept > t][0]
                w = (t - p) / (n - p)
                lo = a[:, p].astype(np.float64)
                hi = a[:, n].astype(np.float64)
                expect = lo * (1 - w) + hi * w
                tol = 4 * np.finfo(a.dtype).eps * np.maximum(
                    np.abs(lo), np.abs(hi)) + 1e-300
                assert np.all(np.abs(b[:, t] - expect) <= tol)
                # between the neighbours (up to rounding: float64 data is
                # interpolated in float64 and may miss by an ulp)
                assert np.all(b[:, t] >= np.minimum(lo, hi) - tol)
                assert np.all(b[:, t] <= np.maximum(lo, hi) + tol)
    # every missing frame is filled: nothing zero where an observed frame is
    assert frame_validity(filled['keypoint']).all()
    if 'keypoint_score' in filled:
        # copies / convex combinations of observed (positive) scores (the
        # akima fill interpolates scores linearly: a cubic could overshoot)
        assert np.all(filled['keypoint_score'] > 0)


#: The fill transforms and the core method each one runs.
FILL_TRANSFORMS = [(dict(type='InterpolateMissingFrames'), 'linear'),
                   (dict(type='DuplicateMissingFrames'), 'nearest'),
                   (dict(type='InterpolateMissingFrames', method='akima'),
                    'akima')]


@examples(100)
@given(sample=samples(), ratio=ratios,
       strategy=st.sampled_from(ALL_STRATEGIES),
       fill=st.sampled_from(FILL_TRANSFORMS), use_frame_valid=st.booleans())
def test_fill_transforms(sample, ratio, strategy, fill, use_frame_valid):
    corrupted = TRANSFORMS.build(
        dict(type='TemporalCorruption', ratio=ratio, strategy=strategy,
             test_mode=True))(sample)
    valid = corrupted['frame_valid']
    before = copy.deepcopy(corrupted)
    if not use_frame_valid:  # the fill then reads the mask from the zeros
        del corrupted['frame_valid']
    cfg, method = fill
    filled = TRANSFORMS.build(cfg)(corrupted)
    check_fill(before, filled, valid, method)


# ----------------------------------------------------------------------------
# Fills: the core functions shared with the completion network
# ----------------------------------------------------------------------------
@st.composite
def masked_batches(draw):
    B = draw(st.integers(1, 4))
    T = draw(st.integers(1, 24))
    rows = draw(st.lists(st.lists(st.booleans(), min_size=T, max_size=T),
                         min_size=B, max_size=B))
    valid = torch.tensor(rows, dtype=torch.bool).view(B, T)
    seed = draw(st.integers(0, 2**31 - 1))
    dtype = draw(st.sampled_from([torch.float32, torch.float64]))
    shape = (B, T) + tuple(draw(st.sampled_from([(), (3, ), (5, 2),
                                                 (2, 4, 3)])))
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(shape, generator=g, dtype=torch.float64).to(dtype) * 100
    return x, valid


def numpy_neighbours(v):
    """Last observed frame at or before / first at or after each frame
    (-1 / T where none), the reference for ``neighbour_frames``."""
    T = len(v)
    kept = np.flatnonzero(v)
    t = np.arange(T)
    i = np.searchsorted(kept, t, 'right') - 1
    j = np.searchsorted(kept, t, 'left')
    p = np.where(i >= 0, kept[np.clip(i, 0, len(kept) - 1)], -1) \
        if len(kept) else np.full(T, -1)
    n = np.where(j < len(kept), kept[np.clip(j, 0, len(kept) - 1)], T) \
        if len(kept) else np.full(T, T)
    return p, n


@examples(60)
@given(batch=masked_batches())
def test_core_fills(batch):
    x, valid = batch
    B, T = valid.shape
    xs, vs = x.double().numpy(), valid.numpy()
    prev, nxt = neighbour_frames(valid)
    d_prev, d_next = gap_distances(valid)
    outs = {name: fill(x, valid) for name, fill in FILLS.items()}
    for b in range(B):
        v = vs[b]
        p, n = numpy_neighbours(v)
        np.testing.assert_array_equal(prev[b].numpy(), p)
        np.testing.assert_array_equal(nxt[b].numpy(), n)
        if not v.any():
            assert np.all(d_prev[b].numpy() == T)
            assert np.all(d_next[b].numpy() == T)
        else:
            # distance to the observed frame on each side, the other side's
            # where one side has none (prefix / suffix gaps)
            t = np.arange(T)
            dp = np.where(p >= 0, t - p, n - t)
            dn = np.where(n < T, n - t, t - p)
            np.testing.assert_array_equal(d_prev[b].numpy(), dp)
            np.testing.assert_array_equal(d_next[b].numpy(), dn)
        for name, out in outs.items():
            o = out[b]
            if not v.any():  # nothing to fill from: unchanged
                assert torch.equal(o, x[b])
                continue
            assert torch.equal(o[valid[b]], x[b][valid[b]]), \
                'observed frames kept'
            # frames outside the observed range hold the end frame
            first, last = np.flatnonzero(v)[[0, -1]]
            assert torch.equal(o[:first], x[b, first].expand_as(o[:first]))
            assert torch.equal(o[last + 1:],
                               x[b, last].expand_as(o[last + 1:]))
            if name == 'nearest':
                # the nearest observed frame, the earlier one on a tie
                src = expected_nearest_source(v)
                assert torch.equal(o, x[b, torch.from_numpy(src)])
            elif name == 'linear':
                inner = (p >= 0) & (n < T) & ~v
                w = ((np.arange(T) - p) / np.maximum(n - p, 1))[inner]
                w = w.reshape((-1, ) + (1, ) * (xs.ndim - 2))
                expect = xs[b, p[inner]] * (1 - w) + xs[b, n[inner]] * w
                np.testing.assert_allclose(
                    o.double().numpy()[inner], expect, rtol=1e-5, atol=1e-4)
            elif v.sum() < 3:  # akima: too few points, linear
                assert torch.equal(o, outs['linear'][b])
    for name, fill in FILLS.items():
        out = outs[name]
        assert out.shape == x.shape and out.dtype == x.dtype
        assert torch.isfinite(out).all()
        # rows are independent: the same as filling one row alone
        b = B - 1
        assert torch.equal(fill(x[b:], valid[b:])[0], out[b])
        # differentiable in x (the completion network learns a residual)
        xg = x.double().clone().requires_grad_(True)
        fill(xg, valid).sum().backward()
        assert torch.isfinite(xg.grad).all()


@examples(60)
@given(batch=masked_batches(), method=st.sampled_from(sorted(FILLS)),
       np_dtype=st.sampled_from([np.float16, np.float32, np.float64]),
       axis=st.integers(0, 2))
def test_fill_missing_frames_numpy_front_end(batch, method, np_dtype, axis):
    x, valid = batch
    data = np.moveaxis(x[:1].numpy(), 1, 0)[:, 0]  # (T, ...)
    v = valid[0].numpy()
    # time on any axis: move it there
    while data.ndim <= axis:
        data = data[..., None]
    data = np.moveaxis(data, 0, axis).astype(np_dtype)
    out = fill_missing_frames(data, v, method, axis=axis)
    assert out.shape == data.shape and out.dtype == data.dtype
    assert np.isfinite(out).all()
    take = [slice(None)] * data.ndim
    take[axis] = v
    take = tuple(take)
    assert_bits_equal(out[take], data[take])
    if not v.any():
        assert_bits_equal(out, data)
        return
    ref = FILLS[method](
        torch.from_numpy(np.moveaxis(data, axis, 0).astype(np.float64))[None],
        torch.from_numpy(v)[None])[0].numpy()
    np.testing.assert_array_equal(out, np.moveaxis(ref, 0, axis).astype(
        np_dtype))


# ----------------------------------------------------------------------------
# Stock pipeline pieces in front: PreNormalize2D / PreNormalize3D
# ----------------------------------------------------------------------------
@examples(60)
@given(sample=samples(max_frames=30), ratio=ratios,
       strategy=st.sampled_from(ALL_STRATEGIES), test_mode=st.booleans(),
       fill=st.sampled_from([None] + FILL_TRANSFORMS))
def test_after_stock_normalisation(sample, ratio, strategy, test_mode, fill):
    norm = 'PreNormalize2D' if sample['keypoint'].shape[-1] == 2 \
        else 'PreNormalize3D'
    normalised = Compose([dict(type=norm)])(copy.deepcopy(sample))
    pipeline = [
        dict(type=norm),
        dict(type='TemporalCorruption', ratio=ratio, strategy=strategy,
             test_mode=test_mode)
    ]
    if fill:
        pipeline.append(fill[0])
    np.random.seed(0)
    out = Compose(pipeline)(sample)
    if fill is None:
        check_corruption(normalised, out, ratio, strategy)
    else:
        # recover the corrupted intermediate from the mask, then check the
        # fill against it
        valid = out['frame_valid']
        corrupted = copy.deepcopy(normalised)
        for key in ('keypoint', 'keypoint_score'):
            if key in corrupted:
                corrupted[key][:, ~valid] = 0
        check_fill(corrupted, out, valid, fill[1])


@examples(40)
@given(sample=samples(max_frames=30, layouts=('coco', )), ratio=ratios,
       strategy=st.sampled_from(ALL_STRATEGIES),
       clip_len=st.integers(1, 20), num_clips=st.integers(1, 3),
       num_person=st.integers(1, 2), test_mode=st.booleans())
# regression: a one-frame clip lost its time axis in FormatCorruptionTargets
@example(sample=make_sample('coco', 1, 1, np.float32, 'smooth', 0),
         ratio=0.0, strategy='random', clip_len=1, num_clips=1, num_person=1,
         test_mode=False)
def test_mask_survives_stock_sampling_and_formatting(
        sample, ratio, strategy, clip_len, num_clips, num_person, test_mode):
    M = sample['keypoint'].shape[0]
    np.random.seed(0)
    packed = Compose([
        dict(type='PreNormalize2D'),
        dict(type='TemporalCorruption', ratio=ratio, strategy=strategy,
             test_mode=test_mode, keep_clean=True),
        dict(type='GenSkeFeat', dataset='coco', feats=['j']),
        dict(type='UniformSampleFrames', clip_len=clip_len,
             num_clips=num_clips, test_mode=test_mode),
        dict(type='PoseDecode'),
        dict(type='FormatGCNInput', num_person=num_person),
        dict(type='FormatCorruptionTargets', num_person=num_person),
    ])(sample)
    inputs = packed['keypoint']
    valid = packed['frame_valid']
    clean = packed['keypoint_clean']
    assert inputs.shape == (num_clips, num_person, clip_len, 17, 3)
    assert valid.shape == (num_clips, clip_len) and valid.dtype == bool
    assert clean.shape == inputs.shape
    real = min(M, num_person)
    for m in range(real):
        np.testing.assert_array_equal(frame_validity(inputs[:, m]), valid)
    if num_person > real:
        assert np.all(inputs[:, real:] == 0)
    np.testing.assert_array_equal(clean[valid[:, None].repeat(
        num_person, 1)], inputs[valid[:, None].repeat(num_person, 1)])


# ----------------------------------------------------------------------------
# Region decomposition: core functions (numpy and torch, any leading dims)
# ----------------------------------------------------------------------------
def _region_index(regions, V):
    index = np.full(V, -1)
    for r, region in enumerate(regions):
        index[region] = r
    return index


def check_split(dynamic, static, motion, layout, num_dynamic):
    regions = REGIONS[layout]
    V = LAYOUTS[layout][0]
    index = _region_index(regions, V)
    dynamic = np.asarray(dynamic).reshape(-1, V)
    static = np.asarray(static).reshape(-1, V)
    motion = np.asarray(motion).reshape(-1, len(regions))
    assert not np.any(dynamic & static)
    assert np.all(dynamic | static)  # the tables cover every joint
    for dyn, mot in zip(dynamic, motion):
        chosen = sorted(set(index[dyn]))
        assert len(chosen) == num_dynamic
        # whole regions only
        for r in chosen:
            assert dyn[regions[r]].all()
        rest = [r for r in range(len(regions)) if r not in chosen]
        assert mot[chosen].min() >= mot[rest].max()


def check_variants(seq, parts, valid, num_coords, layout):
    """S_dyna only moves dynamic joints of observed frames, S_stat only
    static ones; missing frames and the score channel are kept."""
    seq = np.asarray(seq)
    dyna, stat = np.asarray(parts['dyna']), np.asarray(parts['stat'])
    dyn, sta = np.asarray(parts['dynamic']), np.asarray(parts['static'])
    valid = np.broadcast_to(np.asarray(valid), seq.shape[:-2])
    assert dyna.shape == stat.shape == seq.shape
    assert dyna.dtype == stat.dtype == seq.dtype
    assert np.isfinite(dyna).all() and np.isfinite(stat).all()
    V = seq.shape[-2]
    flat = seq.reshape((-1, ) + seq.shape[-3:])
    valid = valid.reshape(-1, seq.shape[-3])
    for x, d, s, dm, sm, v in zip(flat, dyna.reshape(flat.shape),
                                  stat.reshape(flat.shape),
                                  dyn.reshape(-1, V), sta.reshape(-1, V),
                                  valid):
        assert_bits_equal(d[:, ~dm], x[:, ~dm])
        assert_bits_equal(s[:, ~sm], x[:, ~sm])
        assert_bits_equal(d[~v], x[~v])
        assert_bits_equal(s[~v], x[~v])
        if num_coords < x.shape[-1] and v.any():
            # score channels: S_dyna only resamples them in time (within
            # the joint's observed range), S_stat only swaps partners
            sc, dsc = x[v][..., num_coords:], d[v][..., num_coords:]
            lo, hi = sc.min(0), sc.max(0)
            assert np.all(dsc >= lo - 1e-6) and np.all(dsc <= hi + 1e-6)
            ssc = s[v][..., num_coords:]
            flip = FLIP_INDEX[layout]
            assert np.all((ssc == sc) | (ssc == sc[:, flip]))


@st.composite
def sequences(draw, max_frames=24):
    """``(layout, seq, valid, num_coords, zero_missing)``: ``seq``
    ``(..., T, V, C')`` in model units (PreNormalize'd), maybe with a score
    channel, maybe an all-zero padded person; missing frames zero-filled
    or, as after a fill, only marked in ``valid``."""
    layout = draw(st.sampled_from(tuple(LAYOUTS)))
    V, C = LAYOUTS[layout]
    with_score = layout == 'coco' or draw(st.booleans())
    lead = tuple(draw(st.sampled_from([(), (1, ), (2, ), (2, 2), (3, 1)])))
    T = draw(st.integers(1, max_frames))
    seed = draw(st.integers(0, 2**31 - 1))
    motion = draw(st.sampled_from(['smooth', 'static', 'jumpy']))
    rng = np.random.default_rng(seed)
    shape = lead + (T, V, C)
    base = rng.uniform(-0.8, 0.8, lead + (1, V, C))
    t = np.arange(T)[:, None, None]
    if motion == 'smooth':
        seq = base + 0.2 * np.sin(rng.uniform(0.1, 0.8, base.shape) * t +
                                  rng.uniform(0, 6, base.shape))
    elif motion == 'static':
        seq = np.broadcast_to(base, shape).copy()
    else:
        seq = base + rng.normal(0, 0.2, shape)
    seq = seq + (np.abs(seq) < 1e-3)  # no exactly-zero frame by chance
    if with_score:
        score = rng.uniform(0.05, 1, lead + (T, V, 1))
        seq = np.concatenate([seq, score], -1)
    valid = rng.random(lead + (T, )) >= draw(st.sampled_from([0, .3, .7]))
    if draw(st.booleans()) and lead and lead[-1] > 1:
        valid[..., -1, :] = False  # a padded person: all zero
        seq[..., -1, :, :, :] = 0
    # missing frames zero-filled (TemporalCorruption), or restored by a fill
    # and known only from the mask (frame_valid after a fill)
    zero_missing = draw(st.booleans())
    if zero_missing:
        seq[~valid] = 0
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    return layout, seq.astype(dtype), valid, C, zero_missing


@examples(60)
@given(data=sequences(), as_torch=st.booleans(), pass_valid=st.booleans(),
       num_dynamic=st.integers(1, 4), perturb=st.booleans(),
       seed=st.integers(0, 2**31 - 1),
       strong=st.booleans())
def test_core_decomposition(data, as_torch, pass_valid, num_dynamic, perturb,
                            seed, strong):
    layout, seq, valid, nc, zero_missing = data
    pass_valid = pass_valid or not zero_missing
    cfg = dict(mirror_prob=1.0, drop_prob=0.9) if strong else {}
    x = torch.from_numpy(seq) if as_torch else seq
    v = (torch.from_numpy(valid) if as_torch else valid) \
        if pass_valid else None
    parts = decompose_regions(
        x, layout, valid=v, num_dynamic=num_dynamic, num_coords=nc,
        perturb=perturb, generator=torch.Generator().manual_seed(seed),
        **cfg)
    for key, value in parts.items():
        assert isinstance(value, torch.Tensor if as_torch else np.ndarray), \
            key
    parts = {k: (p.numpy() if as_torch else p) for k, p in parts.items()}
    lead = seq.shape[:-3]
    V = seq.shape[-2]
    assert parts['dynamic'].shape == parts['static'].shape == lead + (V, )
    assert parts['dynamic'].dtype == parts['static'].dtype == bool
    assert parts['motion'].shape == lead + (5, )
    assert np.isfinite(parts['motion']).all()
    assert np.all(parts['motion'] >= 0)
    check_split(parts['dynamic'], parts['static'], parts['motion'], layout,
                num_dynamic)
    check_variants(seq, parts, valid, nc, layout)
    # the motion ignores missing frames: passing the mask or reading it from
    # the zeros is the same
    if zero_missing:
        other = region_motion(seq[..., :nc], None if pass_valid else valid,
                              layout)
        np.testing.assert_allclose(other, parts['motion'], rtol=1e-5,
                                   atol=1e-7)
    else:
        zeroed = np.where(valid[..., None, None], seq, 0)
        np.testing.assert_allclose(
            region_motion(zeroed[..., :nc], None, layout), parts['motion'],
            rtol=1e-5, atol=1e-7)
    if not perturb:
        assert_bits_equal(parts['dyna'], seq)
        assert_bits_equal(parts['stat'], seq)


@examples(15)
@given(data=sequences(max_frames=12), training=st.booleans())
def test_model_module_shares_the_properties(data, training):
    layout, seq, valid, C, zero_missing = data
    if seq.ndim != 5:  # the module takes (B, M, T, V, C)
        seq = seq.reshape((1, ) * (5 - seq.ndim) + seq.shape)
        valid = valid.reshape(seq.shape[:3])
    channels = seq.shape[-1]
    torch.manual_seed(0)
    module = SpatialDecomposition(in_channels=channels, layout=layout,
                                  num_coords=C)
    module.train(training)
    x = torch.from_numpy(seq.astype(np.float32))
    mask = None if zero_missing else torch.from_numpy(valid)
    with torch.no_grad():
        s_pred, s_dyna, s_stat = module(x, mask)
        parts = module.decompose(x, mask)
    for out in (s_pred, s_dyna, s_stat):
        assert out.shape == x.shape and torch.isfinite(out).all()
    assert torch.all(s_pred[~torch.from_numpy(valid)] == 0)
    if training:
        check_variants(x.numpy(), dict(parts, dyna=s_dyna, stat=s_stat),
                       valid, C, layout)
    else:
        assert torch.equal(s_dyna, x) and torch.equal(s_stat, x)


# ----------------------------------------------------------------------------
# RegionDecomposition transform
# ----------------------------------------------------------------------------
@examples(60)
@given(sample=samples(max_frames=30), ratio=ratios,
       strategy=st.sampled_from(ALL_STRATEGIES),
       output=st.sampled_from(['extra_keys', 'replace']),
       test_mode=st.booleans(),
       test_perturb=st.sampled_from(['off', 'seeded']),
       normalise=st.booleans(), seed=st.integers(0, 2**31 - 1),
       fill=st.sampled_from([None] + FILL_TRANSFORMS))
# regression: float64 input (PreNormalize3D's output) went through float32,
# so joints that are not perturbed came back rounded
@example(sample=make_sample('nturgb+d', 2, 8, np.float64, 'smooth', 0),
         ratio=0.5, strategy='random', output='extra_keys', test_mode=False,
         test_perturb='off', normalise=True, seed=0, fill=None)
def test_region_decomposition_transform(sample, ratio, strategy, output,
                                        test_mode, test_perturb, normalise,
                                        seed, fill):
    layout = 'coco' if sample['keypoint'].shape[-1] == 2 else 'nturgb+d'
    pipeline = []
    if normalise:
        pipeline.append(dict(type='PreNormalize2D' if layout == 'coco' else
                             'PreNormalize3D'))
    pipeline.append(dict(type='TemporalCorruption', ratio=ratio,
                         strategy=strategy, test_mode=test_mode))
    if fill:  # missing frames restored, still marked in frame_valid
        pipeline.append(fill[0])
    np.random.seed(seed)
    before = Compose(pipeline)(sample)
    kept = copy.deepcopy(before)
    decomposition = TRANSFORMS.build(
        dict(type='RegionDecomposition', layout=layout, output=output,
             replace_prob=0.7, test_mode=test_mode,
             test_perturb=test_perturb, perturb_cfg=dict(mirror_prob=0.7)))
    inputs = [before[k] for k in ('keypoint', 'keypoint_score')
              if k in before]
    out = decomposition(before)
    kp = kept['keypoint']
    score = kept.get('keypoint_score')
    valid = kept['frame_valid']
    off = test_mode and test_perturb == 'off'
    # the input arrays are not modified in place
    for array, key in zip(inputs, ('keypoint', 'keypoint_score')):
        assert_bits_equal(array, kept[key])
    if output == 'extra_keys' or off:
        assert_bits_equal(out['keypoint'], kp)
    if off and output == 'replace':
        assert 'dynamic_joints' not in out
        return
    dyn = out['dynamic_joints']
    M, T, V, C = kp.shape
    assert dyn.shape == (M, V) and dyn.dtype == bool
    # the dynamic joints are num_dynamic whole regions per person
    index = _region_index(REGIONS[layout], V)
    for m in range(M):
        chosen = set(index[dyn[m]])
        assert len(chosen) == 2
        for r in chosen:
            assert dyn[m][REGIONS[layout][r]].all()

    if output == 'extra_keys':
        variants = {'dyna': dyn, 'stat': ~dyn}
    else:
        chosen = out['decomposition_variant']
        assert chosen in ('base', 'dyna', 'stat')
        variants = {} if chosen == 'base' else {
            chosen: dyn if chosen == 'dyna' else ~dyn}
        if chosen == 'base':
            assert_bits_equal(out['keypoint'], kp)
    for name, moved in variants.items():
        if output == 'extra_keys':
            new_kp = out[f'keypoint_{name}']
            new_score = out.get(f'keypoint_score_{name}')
        else:
            new_kp, new_score = out['keypoint'], out.get('keypoint_score')
        assert new_kp.shape == kp.shape and new_kp.dtype == kp.dtype
        assert np.isfinite(new_kp).all()
        # only the joints it names, only on observed frames
        for m in range(M):
            assert_bits_equal(new_kp[m][:, ~moved[m]], kp[m][:, ~moved[m]])
        assert_bits_equal(new_kp[:, ~valid], kp[:, ~valid])
        if off:
            assert_bits_equal(new_kp, kp)
        # missing frames stay exactly zero, observed ones non-zero
        np.testing.assert_array_equal(frame_validity(new_kp),
                                      frame_validity(kp))
        if score is not None:
            assert new_score.shape == score.shape
            assert new_score.dtype == score.dtype
            assert np.isfinite(new_score).all()
            for m in range(M):
                assert_bits_equal(new_score[m][:, ~moved[m]],
                                  score[m][:, ~moved[m]])
            assert_bits_equal(new_score[:, ~valid], score[:, ~valid])
            assert np.all(new_score[:, valid] > 0)
        else:
            assert new_score is None


@examples(30)
@given(sample=samples(max_frames=24, layouts=('coco', )), ratio=ratios,
       strategy=st.sampled_from(ALL_STRATEGIES),
       clip_len=st.integers(1, 12), num_clips=st.integers(1, 2),
       seed=st.integers(0, 2**31 - 1))
def test_region_decomposition_after_format_gcn_input(sample, ratio, strategy,
                                                     clip_len, num_clips,
                                                     seed):
    np.random.seed(seed)
    out = Compose([
        dict(type='PreNormalize2D'),
        dict(type='TemporalCorruption', ratio=ratio, strategy=strategy),
        dict(type='GenSkeFeat', dataset='coco', feats=['j']),
        dict(type='UniformSampleFrames', clip_len=clip_len,
             num_clips=num_clips),
        dict(type='PoseDecode'),
        dict(type='FormatGCNInput', num_person=2),
        dict(type='FormatCorruptionTargets', num_person=2),
    ])(sample)
    kp = out['keypoint'].copy()  # (num_clips, M, T, V, 3): x, y, score
    valid = out['frame_valid']  # (num_clips, T)
    out = TRANSFORMS.build(dict(type='RegionDecomposition', layout='coco'))(
        out)
    dyn = out['dynamic_joints']
    assert dyn.shape == (num_clips, 2, 17) and dyn.dtype == bool
    check_split(dyn, ~dyn, region_motion(kp[..., :2], None, 'coco'), 'coco',
                2)
    # the score channel (GenSkeFeat's third) is never moved spatially
    check_variants(
        kp,
        dict(dyna=out['keypoint_dyna'], stat=out['keypoint_stat'],
             dynamic=dyn, static=~dyn),
        frame_validity(kp) & valid[:, None], 2, 'coco')
    for name in ('dyna', 'stat'):
        np.testing.assert_array_equal(
            frame_validity(out[f'keypoint_{name}']), frame_validity(kp))


def test_profile_is_deterministic():
    assert PROPERTY.database is None and PROPERTY.derandomize
