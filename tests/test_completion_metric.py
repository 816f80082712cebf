"""CompletionMetric and its pure core: MPJPE, N-MPJPE, MPJVE on missing
frames, and the classical fills scored by the same code."""
import math

import numpy as np
import pytest
import torch

import finetec_mmaction  # noqa: F401  (registers the metric)
from finetec_mmaction.core import fill_missing_frames, sample_valid_mask
from finetec_mmaction.evaluation import (CompletionMetric, baseline_fill,
                                         restoration_errors, summarize_errors)
from mmaction.registry import METRICS


def hand_example():
    """Two sequences, T=3, one joint, (x, y, score); frame 1 missing.

    seq 0: gt x = 0, 1, 2 (y = 0); pred puts frame 1 at (2, 0).
        error 1; optimal scale 2/4 = 0.5 -> (1, 0), error 0;
        velocities pred (2, 0), (0, 0) vs gt (1, 0), (1, 0): errors 1, 1.
    seq 1: gt (3, 4), (1, 0), (0, 0); pred frame 1 at (1, 2).
        error 2; scale 1/5 -> (0.2, 0.4), error sqrt(0.8);
        velocities pred (-2, -2), (-1, -2) vs gt (-2, -4), (-1, 0): 2, 2.
    The score channel is wildly wrong and must not count.
    """
    gt = np.zeros((2, 3, 1, 3))
    gt[0, :, 0, :2] = [[0, 0], [1, 0], [2, 0]]
    gt[1, :, 0, :2] = [[3, 4], [1, 0], [0, 0]]
    gt[..., 2] = 1.0
    pred = gt.copy()
    pred[0, 1, 0] = [2, 0, 50.0]
    pred[1, 1, 0] = [1, 2, -7.0]
    valid = np.array([[True, False, True]] * 2)
    return pred, gt, valid


def test_hand_computed_errors():
    pred, gt, valid = hand_example()
    err = restoration_errors(pred, gt, valid)
    np.testing.assert_allclose(err['mpjpe'], [1, 2])
    np.testing.assert_allclose(err['n_mpjpe'], [0, math.sqrt(0.8)])
    np.testing.assert_allclose(err['mpjve'], [2, 4])
    np.testing.assert_allclose(err['num_joint_frames'], [1, 1])
    np.testing.assert_allclose(err['num_joint_velocities'], [2, 2])
    summary = summarize_errors([err])
    assert summary['mpjpe'] == pytest.approx(1.5)
    assert summary['n_mpjpe'] == pytest.approx(math.sqrt(0.8) / 2)
    assert summary['mpjve'] == pytest.approx(1.5)
    # torch tensors work the same; the score counts only if asked to
    err_t = restoration_errors(torch.as_tensor(pred), torch.as_tensor(gt),
                               torch.as_tensor(valid))
    np.testing.assert_allclose(err_t['mpjpe'], err['mpjpe'])
    assert restoration_errors(pred, gt, valid, coord_channels=3)[
        'mpjpe'][0] == pytest.approx(math.sqrt(1 + 49**2))


def test_joint_subset_and_nothing_missing():
    rng = np.random.default_rng(0)
    gt = rng.normal(size=(1, 6, 17, 3))
    pred = gt.copy()
    valid = np.array([[True, False, False, True, True, True]])
    pred[:, 1:3, 1:5] += 10  # error only on unannotated joints
    penn = [0] + list(range(5, 17))
    assert summarize_errors([restoration_errors(
        pred, gt, valid, joints=penn)])['mpjpe'] == 0
    assert summarize_errors([restoration_errors(pred, gt, valid)
                             ])['mpjpe'] > 0
    err = restoration_errors(pred, gt, valid, joints=penn)
    assert err['num_joint_frames'][0] == 2 * 13
    # nothing missing: no error to average
    assert math.isnan(summarize_errors([restoration_errors(
        gt, gt, np.ones((1, 6), bool))])['mpjpe'])
    with pytest.raises(ValueError, match='valid must be'):
        restoration_errors(pred, gt, valid[:, :4])


def test_baselines_through_the_same_metric():
    # a smooth sequence: interpolation < duplication < zero-fill
    t = np.linspace(0, 2 * np.pi, 60)
    rng = np.random.default_rng(1)
    gt = (rng.uniform(-0.5, 0.5, (4, 1, 17, 3)) +
          0.3 * np.sin(t[None, :, None, None] +
                       rng.uniform(0, 3, (4, 1, 17, 3))))
    valid = np.stack([
        sample_valid_mask(60, 0.5, 'random', np.random.default_rng(i))
        for i in range(4)
    ])
    scores = {
        m: summarize_errors([restoration_errors(
            baseline_fill(gt, valid, m), gt, valid)])
        for m in ('zero', 'nearest', 'linear')
    }
    for key in ('mpjpe', 'n_mpjpe', 'mpjve'):
        assert scores['linear'][key] < scores['nearest'][key] < scores[
            'zero'][key], key
    # the fills are core.fill's, applied to the zero-filled input
    filled = baseline_fill(gt, valid, 'linear')
    np.testing.assert_allclose(
        filled[2],
        fill_missing_frames(gt[2] * valid[2][:, None, None], valid[2],
                            'linear', axis=0))
    assert np.array_equal(filled[valid], gt[valid])
    assert np.all(baseline_fill(gt, valid, 'zero')[~valid] == 0)
    with pytest.raises(ValueError, match='Unknown baseline'):
        baseline_fill(gt, valid, 'cubic')


def sample(pred, gt, valid, strategy=None, ratio=None):
    out = dict(pred_keypoint=torch.as_tensor(pred), keypoint_clean=gt,
               frame_valid=valid)
    if strategy is not None:
        out.update(corrupt_strategy=strategy, corrupt_ratio=ratio)
    return out


def test_metric_overall_groups_and_baselines():
    pred, gt, valid = hand_example()
    metric = METRICS.build(dict(type='CompletionMetric',
                                baselines=('zero', 'linear')))
    assert isinstance(metric, CompletionMetric)
    # data samples as packed: (num_clips, M, T, V, C), frame_valid per clip;
    # the second person is padding (all zero) and is skipped
    samples = []
    for i, (strategy, ratio) in enumerate([('random', 0.75),
                                           ('in-between', 0.5)]):
        p = np.zeros((1, 2) + pred.shape[1:])
        g = np.zeros_like(p)
        p[0, 0], g[0, 0] = pred[i], gt[i]
        p[0, 1, 1] = 5.0  # prediction on the padded person: ignored
        samples.append(sample(p, g, valid[i:i + 1], strategy, ratio))
    metric.process({}, samples)
    res = metric.evaluate(2)
    assert res['completion/mpjpe'] == pytest.approx(1.5)
    assert res['completion/n_mpjpe'] == pytest.approx(math.sqrt(0.8) / 2)
    assert res['completion/mpjve'] == pytest.approx(1.5)
    assert res['completion/random@0.75/mpjpe'] == pytest.approx(1)
    assert res['completion/in-between@0.5/mpjpe'] == pytest.approx(2)
    assert res['completion/in-between@0.5/n_mpjpe'] == pytest.approx(
        math.sqrt(0.8))
    # linear interpolation of 3 frames: seq 0 exact, seq 1 frame 1 at
    # (1.5, 2) vs (1, 0)
    assert res['completion/linear/random@0.75/mpjpe'] == pytest.approx(0)
    assert res['completion/linear/in-between@0.5/mpjpe'] == pytest.approx(
        math.sqrt(0.25 + 4))
    assert res['completion/zero/mpjpe'] == pytest.approx(1.0)
    assert len(res) == 3 * 3 * 3  # (model, zero, linear) x 3 groups x 3


def test_metric_baselines_only_and_missing_fields():
    pred, gt, valid = hand_example()
    metric = CompletionMetric(pred_key=None, baselines=('nearest', ),
                              joints=[0])
    metric.process({}, [dict(keypoint_clean=gt[:1, None], frame_valid=valid[
        :1])])
    res = metric.evaluate(1)
    # nearest duplicates frame 0 (tie -> earlier): (0, 0) vs (1, 0)
    assert res == pytest.approx({
        'completion/nearest/mpjpe': 1.0,
        'completion/nearest/n_mpjpe': 1.0,
        'completion/nearest/mpjve': 1.0
    })
    metric = CompletionMetric()
    with pytest.raises(KeyError, match='keep_clean=True'):
        metric.process({}, [dict(pred_keypoint=pred, frame_valid=valid)])
    with pytest.raises(ValueError, match='Nothing to score'):
        CompletionMetric(pred_key=None)
    with pytest.raises(ValueError, match='Unknown baselines'):
        CompletionMetric(baselines=('cubic', ))
