"""TemporalCorruption, the fills and the masking strategies behind them."""
import copy

import numpy as np
import pytest
from mmengine.dataset import Compose

import finetec_mmaction  # noqa: F401  (registers the transforms)
from finetec_mmaction.core import (STRATEGIES, fill_missing_frames,
                                   frame_validity, num_missing_frames,
                                   sample_valid_mask)
from mmaction.registry import TRANSFORMS


def make_sample(num_frames=40, num_person=1, num_joints=17, channels=2,
                frame_dir='S001', seed=0, with_score=True):
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 2 * np.pi, num_frames)[None, :, None, None]
    base = rng.uniform(200, 600, size=(num_person, 1, num_joints, channels))
    keypoint = (base + 40 * np.sin(t + rng.uniform(0, 3, base.shape))
                ).astype(np.float32)
    sample = dict(frame_dir=frame_dir, label=3, img_shape=(720, 1280),
                  original_shape=(720, 1280), total_frames=num_frames,
                  keypoint=keypoint, start_index=0, modality='Pose')
    if with_score:
        sample['keypoint_score'] = rng.uniform(
            0.5, 1.0, (num_person, num_frames, num_joints)).astype(np.float32)
    return sample


@pytest.mark.parametrize('strategy', STRATEGIES)
@pytest.mark.parametrize('ratio', [0.0, 0.25, 0.5, 0.75, 0.9, 1.0])
@pytest.mark.parametrize('num_frames', [1, 2, 7, 48, 101])
def test_exact_drop_counts(strategy, ratio, num_frames):
    rng = np.random.default_rng(1)
    speed = rng.uniform(0, 1, num_frames)
    valid = sample_valid_mask(num_frames, ratio, strategy, rng, speed=speed)
    expected = min(int(np.ceil(round(ratio * num_frames, 9))),
                   max(num_frames - 1, 0))
    assert valid.shape == (num_frames, )
    assert (~valid).sum() == expected
    assert valid.any(), 'never drops every frame'


def test_num_missing_frames_protocol():
    # ceil(r * T), clipped to T - 1
    assert num_missing_frames(48, 0.25) == 12
    assert num_missing_frames(49, 0.25) == 13
    assert num_missing_frames(10, 0.75) == 8
    assert num_missing_frames(10, 1.0) == 9
    assert num_missing_frames(1, 0.9) == 0
    assert num_missing_frames(0, 0.5) == 0


def test_strategy_shapes():
    rng = np.random.default_rng(0)
    prefix = sample_valid_mask(20, 0.25, 'prefix', rng)
    assert not prefix[:5].any() and prefix[5:].all()
    suffix = sample_valid_mask(20, 0.25, 'suffix', rng)
    assert suffix[:15].all() and not suffix[15:].any()
    block = sample_valid_mask(20, 0.5, 'in-between', rng)
    missing = np.flatnonzero(~block)
    assert np.all(np.diff(missing) == 1), 'one contiguous block'
    assert block[0] and block[-1], 'observed frames on both sides'
    burst = sample_valid_mask(60, 0.5, 'burst', rng, num_bursts=3)
    starts = np.flatnonzero(np.diff(np.r_[1, burst.astype(int)]) == -1)
    assert len(starts) == 3
    pattern = sample_valid_mask(40, 0.25, 'pattern', rng)
    gaps = np.diff(np.flatnonzero(~pattern))
    assert gaps.min() >= 3 and gaps.max() <= 5, 'evenly spread'


def test_motion_strategy_prefers_fast_frames():
    rng = np.random.default_rng(0)
    speed = np.r_[np.zeros(50), np.ones(50) * 10]
    drops = np.zeros(100)
    for _ in range(50):
        drops += ~sample_valid_mask(100, 0.25, 'motion', rng, speed=speed)
    assert drops[50:].sum() > 20 * drops[:50].sum()


def test_transform_zero_fills_and_marks():
    sample = make_sample(num_frames=40, num_person=2)
    corrupt = TRANSFORMS.build(
        dict(type='TemporalCorruption', ratio='moderate', strategy='random',
             keep_clean=True))
    clean = copy.deepcopy(sample)
    out = corrupt(sample)
    valid = out['frame_valid']
    assert valid.dtype == bool and (~valid).sum() == 20
    assert np.all(out['keypoint'][:, ~valid] == 0)
    assert np.all(out['keypoint_score'][:, ~valid] == 0)
    # observed frames untouched
    np.testing.assert_array_equal(out['keypoint'][:, valid],
                                  clean['keypoint'][:, valid])
    np.testing.assert_array_equal(out['keypoint_clean'], clean['keypoint'])
    np.testing.assert_array_equal(out['keypoint_score_clean'],
                                  clean['keypoint_score'])
    assert out['corrupt_strategy'] == 'random'
    assert out['corrupt_ratio'] == 0.5


def test_test_mode_is_deterministic_per_frame_dir():
    cfg = dict(type='TemporalCorruption', ratio=0.5, strategy='mixed',
               test_mode=True, seed=7)
    a = TRANSFORMS.build(cfg)(make_sample(frame_dir='A'))['frame_valid']
    b = TRANSFORMS.build(cfg)(make_sample(frame_dir='A'))['frame_valid']
    c = TRANSFORMS.build(cfg)(make_sample(frame_dir='B'))['frame_valid']
    other_seed = TRANSFORMS.build(dict(cfg, seed=8))(
        make_sample(frame_dir='A'))['frame_valid']
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert not np.array_equal(a, other_seed)
    # training masks are redrawn
    train = TRANSFORMS.build(dict(type='TemporalCorruption', ratio=0.5))
    masks = {tuple(train(make_sample())['frame_valid']) for _ in range(5)}
    assert len(masks) > 1


def test_mixed_uses_several_strategies():
    corrupt = TRANSFORMS.build(
        dict(type='TemporalCorruption', ratio=0.5, strategy='mixed',
             test_mode=True))
    used = {corrupt(make_sample(frame_dir=str(i)))['corrupt_strategy']
            for i in range(60)}
    assert used == set(STRATEGIES)


def test_single_frame_and_all_zero_input():
    corrupt = TRANSFORMS.build(dict(type='TemporalCorruption', ratio=0.9))
    out = corrupt(make_sample(num_frames=1))
    assert out['frame_valid'].tolist() == [True]
    zeros = make_sample(num_frames=10)
    zeros['keypoint'][:] = 0
    for strategy in STRATEGIES:
        corrupt = TRANSFORMS.build(
            dict(type='TemporalCorruption', ratio=0.5, strategy=strategy))
        out = corrupt(copy.deepcopy(zeros))
        assert out['frame_valid'].sum() == 5
        assert np.isfinite(out['keypoint']).all()


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match='severity'):
        TRANSFORMS.build(dict(type='TemporalCorruption', ratio='extreme'))
    with pytest.raises(ValueError, match='strategy'):
        TRANSFORMS.build(dict(type='TemporalCorruption', strategy='sideways'))
    with pytest.raises(ValueError, match=r'\[0, 1\]'):
        TRANSFORMS.build(dict(type='TemporalCorruption', ratio=1.5))
    corrupt = TRANSFORMS.build(dict(type='TemporalCorruption', ratio=0.5))
    with pytest.raises(ValueError, match='S001'):
        corrupt(dict(frame_dir='S001', keypoint=np.zeros((10, 17, 2))))


def stock_stgcnpp_pipeline(clip_len, num_clips, extra_after_normalize,
                           num_person=2, extra_end=()):
    """MMAction2's ST-GCN++ 2D test pipeline, with our transforms inserted."""
    return Compose([
        dict(type='PreNormalize2D'),
        *extra_after_normalize,
        dict(type='GenSkeFeat', dataset='coco', feats=['j']),
        dict(type='UniformSampleFrames', clip_len=clip_len,
             num_clips=num_clips, test_mode=True),
        dict(type='PoseDecode'),
        dict(type='FormatGCNInput', num_person=num_person),
        *extra_end,
        dict(type='PackActionInputs',
             algorithm_keys=('frame_valid', 'keypoint_clean')),
    ])


@pytest.mark.parametrize('num_frames,clip_len,num_clips',
                         [(40, 16, 1), (40, 64, 2), (7, 12, 3)])
def test_validity_mask_survives_stock_pipeline(num_frames, clip_len,
                                               num_clips):
    corruption = dict(type='TemporalCorruption', ratio=0.5, strategy='burst',
                      test_mode=True, keep_clean=True)
    pipeline = stock_stgcnpp_pipeline(
        clip_len, num_clips, [corruption],
        extra_end=[dict(type='FormatCorruptionTargets', num_person=2)])
    packed = pipeline(make_sample(num_frames=num_frames))
    inputs = packed['inputs'].numpy()  # (nc, M, T, V, C)
    assert inputs.shape == (num_clips, 2, clip_len, 17, 3)
    sample = packed['data_samples']
    expected = sample.frame_valid  # (nc, T) from the original mask
    assert expected.shape == (num_clips, clip_len)
    # the mask read back from the zeros of the input agrees everywhere
    np.testing.assert_array_equal(frame_validity(inputs[:, 0]), expected)
    # padded second person is all zero, so it never counts as observed
    assert not frame_validity(inputs[:, 1]).any()
    # the clean target is formatted exactly like the input
    clean = sample.keypoint_clean
    assert clean.shape == inputs.shape
    np.testing.assert_allclose(clean[:, 0][expected], inputs[:, 0][expected])
    assert (clean[:, 0][~expected] != 0).any()

    # and the same masks again: test-time corruption is deterministic
    again = pipeline(make_sample(num_frames=num_frames))
    np.testing.assert_array_equal(again['inputs'].numpy(), inputs)


def test_unmodified_stock_pipeline_takes_the_transform():
    # only the corruption is inserted: everything else is MMAction2's own
    pipeline = stock_stgcnpp_pipeline(
        100, 10, [dict(type='TemporalCorruption', ratio='severe',
                       test_mode=True)])
    packed = pipeline(make_sample(num_frames=48))
    inputs = packed['inputs'].numpy()
    valid = frame_validity(inputs[:, 0])
    assert inputs.shape == (10, 2, 100, 17, 3)
    assert 0 < valid.mean() < 0.5


@pytest.mark.parametrize('fill', ['InterpolateMissingFrames',
                                  'DuplicateMissingFrames'])
def test_fills_restore_every_missing_frame(fill):
    sample = make_sample(num_frames=30)
    original = copy.deepcopy(sample)
    pipeline = Compose([
        dict(type='TemporalCorruption', ratio=0.5, strategy='in-between',
             test_mode=True),
        dict(type=fill),
    ])
    out = pipeline(sample)
    valid = out['frame_valid']
    assert frame_validity(out['keypoint']).all()
    np.testing.assert_array_equal(out['keypoint'][:, valid],
                                  original['keypoint'][:, valid])
    assert (out['keypoint_score'][:, ~valid] > 0).all()


def test_linear_and_nearest_fill_values():
    data = np.array([0., 0., 0., 6., 0., 0., 9.])[None, :, None, None]
    valid = np.array([False, False, False, True, False, False, True])
    lin = fill_missing_frames(data, valid, 'linear')[0, :, 0, 0]
    np.testing.assert_allclose(lin, [6, 6, 6, 6, 7, 8, 9])
    near = fill_missing_frames(data, valid, 'nearest')[0, :, 0, 0]
    np.testing.assert_allclose(near, [6, 6, 6, 6, 6, 9, 9])
    with pytest.raises(ValueError, match='frames'):
        fill_missing_frames(data, valid[:3], 'linear')
