"""The evidence protocol's statistics on hand-made examples whose answers
are known: the t-interval over seeds and the paired bootstrap over videos."""
import math

import numpy as np
import pytest
from scipy import stats

from finetec_mmaction.evaluation import (class_means, mean_ci,
                                         paired_bootstrap, ratio_bootstrap)


# ---------------------------------------------------------------- mean_ci
def test_mean_ci_matches_scipy_t_interval():
    values = [0.80, 0.83, 0.86]
    ci = mean_ci(values)
    low, high = stats.t.interval(0.95, df=2, loc=np.mean(values),
                                 scale=stats.sem(values))
    assert ci['n'] == 3
    assert ci['mean'] == pytest.approx(0.83)
    assert ci['sd'] == pytest.approx(0.03)
    assert (ci['low'], ci['high']) == pytest.approx((low, high), abs=1e-12)
    # by hand: t_{0.975, 2} = 4.3027, sd / sqrt(3) = 0.017321
    assert ci['half_width'] == pytest.approx(4.302653 * 0.03 / math.sqrt(3),
                                             rel=1e-6)


def test_mean_ci_other_confidence_and_constant_values():
    ci = mean_ci([1.0, 2.0, 3.0, 4.0], confidence=0.9)
    assert ci['half_width'] == pytest.approx(
        stats.t.ppf(0.95, 3) * np.std([1, 2, 3, 4], ddof=1) / 2)
    flat = mean_ci([0.5, 0.5])
    assert flat['half_width'] == 0 and flat['low'] == flat['high'] == 0.5


def test_mean_ci_of_one_seed_has_no_interval():
    ci = mean_ci([0.7])
    assert ci['mean'] == 0.7 and ci['n'] == 1
    assert all(math.isnan(ci[k]) for k in ('sd', 'half_width', 'low', 'high'))


@pytest.mark.parametrize('values', [[], [0.1, float('nan')]])
def test_mean_ci_refuses_bad_input(values):
    with pytest.raises(ValueError):
        mean_ci(values)


# ------------------------------------------------------- paired bootstrap
def test_identical_models_differ_by_exactly_zero():
    rng = np.random.default_rng(0)
    correct = rng.random((3, 50)) < 0.6
    labels = rng.integers(0, 4, 50)
    out = paired_bootstrap(correct, correct.copy(), labels, num_samples=500)
    for key in ('top1', 'mean_class_acc'):
        assert out[key]['diff'] == out[key]['low'] == out[key]['high'] == 0
        assert out[key]['p_le_zero'] == 1
    assert out['num_videos'] == 50 and out['num_samples'] == 500


def test_a_model_right_wherever_the_other_is_wrong():
    # A right on every video, B wrong on every one: the difference is 1 in
    # every resample, so the interval is the point 1
    a = np.ones((2, 30))
    b = np.zeros((3, 30))
    labels = np.repeat(np.arange(3), 10)
    out = paired_bootstrap(a, b, labels, num_samples=200)
    for key in ('top1', 'mean_class_acc'):
        assert out[key]['diff'] == out[key]['low'] == out[key]['high'] == 1
        assert out[key]['p_le_zero'] == 0
    # and the other way round
    back = paired_bootstrap(b, a, labels, num_samples=200)
    assert back['top1']['low'] == back['top1']['high'] == -1


def test_seeds_are_averaged_per_video_before_resampling():
    # A: seed 0 right on all 4 videos, seed 1 on none -> 0.5 per video;
    # B right on 1 of 4 -> observed difference 0.5 - 0.25
    a = np.array([[1, 1, 1, 1], [0, 0, 0, 0]])
    b = np.array([1, 0, 0, 0])
    out = paired_bootstrap(a, b, num_samples=2000, seed=1)
    assert out['top1']['diff'] == pytest.approx(0.25)
    # per-video differences are {-0.5, 0.5, 0.5, 0.5}: a resample mean lies
    # in [-0.5, 0.5] in steps of 0.25
    assert -0.5 <= out['top1']['low'] <= 0.25 <= out['top1']['high'] <= 0.5
    assert 'mean_class_acc' not in out


def test_mean_class_accuracy_weights_classes_not_videos():
    # class 0: one video, class 1: three; A differs from B only on the one
    # class-0 video: top-1 gap 1/4, mean class accuracy gap (1 + 0) / 2
    a = np.array([1, 1, 0, 1])
    b = np.array([0, 1, 0, 1])
    labels = np.array([0, 1, 1, 1])
    out = paired_bootstrap(a, b, labels, num_samples=100)
    assert out['top1']['diff'] == pytest.approx(0.25)
    assert out['mean_class_acc']['diff'] == pytest.approx(0.5)
    assert class_means(a.astype(float), labels)[0] == pytest.approx(
        (1 + 2 / 3) / 2)


def test_class_means_leaves_out_classes_absent_from_a_resample():
    values = np.array([1.0, 0.0, 0.5])
    labels = np.array([0, 1, 2])
    index = np.array([[0, 0, 2], [1, 1, 1]])
    np.testing.assert_allclose(class_means(values, labels, index),
                               [(1 + 0.5) / 2, 0.0])


def test_bootstrap_interval_agrees_with_the_normal_approximation():
    # 2000 videos, A right on a random 30 % where B is wrong, equal
    # elsewhere: d is Bernoulli(0.3), so the 95 % interval of its mean is
    # about 0.3 +- 1.96 * sqrt(0.3 * 0.7 / 2000)
    rng = np.random.default_rng(3)
    n = 2000
    wins = rng.random(n) < 0.3
    base = rng.random(n) < 0.5
    a = np.where(wins, 1, base)
    b = np.where(wins, 0, base)
    out = paired_bootstrap(a, b, num_samples=4000, seed=0)
    p = wins.mean()
    half = 1.96 * math.sqrt(p * (1 - p) / n)
    assert out['top1']['diff'] == pytest.approx(p)
    assert out['top1']['low'] == pytest.approx(p - half, abs=0.004)
    assert out['top1']['high'] == pytest.approx(p + half, abs=0.004)


def test_bootstrap_is_reproducible_from_its_seed():
    rng = np.random.default_rng(0)
    a, b = rng.random((2, 3, 40)) < 0.5
    labels = rng.integers(0, 3, 40)
    first = paired_bootstrap(a, b, labels, num_samples=1500, seed=7)
    assert paired_bootstrap(a, b, labels, num_samples=1500, seed=7) == first
    other = paired_bootstrap(a, b, labels, num_samples=1500, seed=8)
    assert other['top1']['diff'] == first['top1']['diff']
    assert (other['top1']['low'], other['top1']['high']) != (
        first['top1']['low'], first['top1']['high'])


@pytest.mark.parametrize('a, b, labels, match', [
    (np.ones(5), np.ones(6), None, 'different numbers of videos'),
    (np.full(4, 2.0), np.ones(4), None, r'\[0, 1\]'),
    (np.ones(4), np.ones(4), [0, 1, 0], 'labels must be 4'),
    (np.ones((2, 2, 2)), np.ones(2), None, 'seeds, videos'),
])
def test_bootstrap_refuses_bad_input(a, b, labels, match):
    with pytest.raises(ValueError, match=match):
        paired_bootstrap(a, b, labels, num_samples=10)


def test_ratio_bootstrap_over_the_better_reference():
    """sum(a) / min(sum(r1), sum(r2)): the observed ratio is exact, the
    interval brackets it and narrows with more clips, and a method twice
    as bad as the better reference on every clip is 2 in every resample."""
    rng = np.random.default_rng(0)
    lin = rng.gamma(2.0, 1.0, 400)
    akima = lin * rng.uniform(0.7, 1.1, 400)
    ours = akima * rng.uniform(0.9, 1.12, 400)
    out = ratio_bootstrap(ours, [lin, akima], num_samples=2000)
    assert out['ratio'] == pytest.approx(ours.sum() / min(lin.sum(),
                                                          akima.sum()))
    assert out['low'] < out['ratio'] < out['high']
    assert 0 < out['p_above_one'] < 1 and out['num_clips'] == 400
    few = ratio_bootstrap(ours[:40], [lin[:40], akima[:40]], num_samples=2000)
    assert few['high'] - few['low'] > out['high'] - out['low']
    double = ratio_bootstrap(2 * akima, [lin, akima], num_samples=500)
    assert double['low'] == pytest.approx(2) and double['high'] == \
        pytest.approx(2) and double['p_above_one'] == 1
    with pytest.raises(ValueError, match='same non-empty clips'):
        ratio_bootstrap(ours, [lin[:10]])
