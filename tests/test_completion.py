"""Module ①: ContextAwareCompletion, its skeleton bank and the stage-1
pre-trainer."""
import copy
import os
import os.path as osp

import mmengine
import numpy as np
import pytest
import torch
from mmengine.dataset import Compose, pseudo_collate
from mmengine.optim import OptimWrapper

import finetec_mmaction  # noqa: F401  (registers everything)
import finetec_mmaction.models.completion  # noqa: F401
from finetec_mmaction.core import (FLIP_INDEX, PAPER_STRATEGIES,
                                   fill_missing_frames, num_missing_frames,
                                   sample_valid_mask)
from finetec_mmaction.core import masking as core_masking
from finetec_mmaction.evaluation import CompletionMetric
from finetec_mmaction.core.fill import akima_fill, gap_distances, linear_fill
from finetec_mmaction.core.retrieval import (mirror_sequences,
                                             prepare_retrieval_bank,
                                             retrieval_detail, scale_time)
from finetec_mmaction.models.completion import (CompletionPretrainer,
                                                ContextAwareCompletion,
                                                SkeletonBank,
                                                resample_sequence)
from finetec_mmaction.models.completion import prompts as completion_module
from finetec_mmaction.models.completion import (dct_lowpass,
                                                masked_joint_error,
                                                masked_mse)
from mmaction.datasets.transforms import (PoseDecode, PreNormalize2D,
                                          UniformSampleFrames)
from mmaction.registry import MODELS


def smooth(num, clip_len, num_joints, channels, seed=0, lead=()):
    """Smooth random trajectories ``(*lead, num, T, K, C)`` in [-1, 1]."""
    gen = torch.Generator().manual_seed(seed)
    shape = tuple(lead) + (num, 1, num_joints, channels)
    t = torch.linspace(0, 2 * np.pi, clip_len).view(clip_len, 1, 1)
    base = torch.rand(shape, generator=gen) - 0.5
    amp = 0.3 * torch.rand(shape, generator=gen)
    phase = 3 * torch.rand(shape, generator=gen)
    return base + amp * torch.sin(t + phase)


def random_valid(shape, ratio=0.5, strategy='random', seed=0):
    rng = np.random.default_rng(seed)
    flat = [sample_valid_mask(shape[-1], ratio, strategy, rng)
            for _ in range(int(np.prod(shape[:-1])))]
    return torch.as_tensor(np.stack(flat)).view(shape)


def make_model(num_joints=17, channels=3, clip_len=24, bank_size=8, **kw):
    bank = smooth(bank_size, clip_len, num_joints, channels, seed=99)
    return ContextAwareCompletion(
        num_joints=num_joints, num_channels=channels, clip_len=clip_len,
        hidden_channels=8, bank=bank, **kw)


def perturb(model, seed=0):
    # an untrained model is exactly interpolation; make it predict something
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.1 * torch.randn(p.shape, generator=gen))
    return model


# ------------------------------------------------------------------ network
@pytest.mark.parametrize('layout', [(17, 3), (25, 3), (5, 2)],
                         ids=['coco2d+score', 'ntu3d', 'custom5x2'])
@pytest.mark.parametrize('training', [True, False])
def test_shapes_and_observed_frames_unchanged(layout, training):
    num_joints, channels = layout
    model = perturb(make_model(num_joints, channels)).train(training)
    gt = smooth(2, 24, num_joints, channels, lead=(3, ))  # (N=3, M=2, ...)
    valid = random_valid((3, 2, 24), 0.6)
    x = gt * valid[..., None, None]
    out = model(x, valid)
    assert out.shape == x.shape == (3, 2, 24, num_joints, channels)
    assert out.dtype == x.dtype
    # observed frames pass through bit for bit
    assert torch.equal(out[valid], x[valid])
    # missing frames are filled: not zero and not the interpolation alone
    missing = out[~valid]
    assert missing.abs().sum(-1).gt(0).all()
    assert torch.isfinite(out).all()
    interp = linear_fill(x.flatten(0, 1), valid.flatten(0, 1)).view_as(x)
    assert not torch.allclose(out[~valid], interp[~valid])
    # (B, T, K, C) input works too and gives the same result in eval mode
    if not training:
        flat = model(x.flatten(0, 1), valid.flatten(0, 1))
        assert torch.allclose(flat.view_as(out), out, atol=1e-6)


@pytest.mark.parametrize('base_fill', ['akima', 'linear'])
def test_untrained_model_is_its_base_interpolation(base_fill):
    # self_validation=None: the unguarded fill (safe restoration: below)
    model = make_model(base_fill=base_fill, self_validation=None).eval()
    gt = smooth(6, 24, 17, 3)
    valid = random_valid((6, 24), 0.75, 'in-between')
    x = gt * valid[..., None, None]
    out = model(x, valid)
    expect = np.stack([
        fill_missing_frames(s.numpy(), v.numpy(), base_fill, axis=0)
        for s, v in zip(x, valid)
    ])
    np.testing.assert_allclose(out.detach().numpy(), expect, atol=1e-5)
    with pytest.raises(ValueError, match='base_fill'):
        make_model(base_fill='cubic')


@pytest.mark.parametrize('shifts,weighting', [((0, ), 'mean'),
                                               ((-2, 0, 2), 'softmax')])
def test_retrieval_detail_matches_brute_force(shifts, weighting):
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(3, 12, 5, 2, generator=gen)
    bank = torch.randn(20, 12, 5, 2, generator=gen)
    valid = random_valid((3, 12), 0.5)
    out = retrieval_detail(x, valid, bank, 3, skip_nearest=1,
                           time_shifts=shifts, weighting=weighting,
                           gap_ramp=1)
    # gap_ramp scales the detail of each missing frame by its gap's length
    ramped = retrieval_detail(x, valid, bank, 3, skip_nearest=1,
                              time_shifts=shifts, weighting=weighting,
                              gap_ramp=4)
    for b in range(3):
        for t in range(12):
            if valid[b, t]:
                continue
            start, end = t, t
            while start > 0 and not valid[b, start - 1]:
                start -= 1
            while end < 11 and not valid[b, end + 1]:
                end += 1
            length = end - start + 1
            if start == 0 or end == 11:  # an open end: counted to the edge
                continue
            torch.testing.assert_close(ramped[b, t],
                                       out[b, t] * min(1, length / 4))
    for b in range(3):
        v = valid[b]
        q = x[b][v] - x[b][v].mean((0, 1))
        # every bank sequence at its best shift (end frames repeated)
        best = []
        for seq in bank:
            options = []
            for shift in shifts:
                moved = seq[(torch.arange(12) + shift).clamp(0, 11)]
                centred = moved[v] - moved[v].mean((0, 1))
                options.append((float(((q - centred)**2).sum()), moved))
            best.append(min(options, key=lambda o: o[0]))
        chosen = sorted(best, key=lambda o: o[0])[1:4]  # nearest skipped
        dist = torch.tensor([d for d, _ in chosen])
        weights = torch.full((3, ), 1 / 3) if weighting == 'mean' else \
            torch.softmax(-dist / dist[0], 0)
        seqs = torch.stack([m for _, m in chosen])
        fill = akima_fill(seqs * v[None, :, None, None],
                          v[None].expand(3, -1))
        torch.testing.assert_close(
            out[b], torch.einsum('k,ktjc->tjc', weights, seqs - fill))
    assert out[valid].abs().max() == 0  # observed frames get no detail
    # a small bank: all it has (less the skipped one), with a warning
    with pytest.warns(UserWarning, match='bank has 20 sequences'):
        few = retrieval_detail(x, valid, bank, 30, skip_nearest=1,
                               weighting='mean')
    torch.testing.assert_close(
        few, retrieval_detail(x, valid, bank, 19, skip_nearest=1,
                              weighting='mean'))
    with pytest.raises(ValueError, match='leaves none'):
        retrieval_detail(x, valid, bank, 3, skip_nearest=20)
    with pytest.raises(ValueError, match='differ'):
        retrieval_detail(x, valid, bank[:, :10], 3)


def test_retrieval_detail_mirror_and_scale_match_brute_force():
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(3, 12, 4, 2, generator=gen)
    bank = torch.randn(20, 12, 4, 2, generator=gen) * \
        (0.5 + torch.rand(20, 1, 1, 1, generator=gen))
    valid = random_valid((3, 12), 0.5)
    flip, shifts, scale_range = [1, 0, 3, 2], (-1, 0, 1), (0.8, 1.25)
    rates = (0.5, 1.0)
    out = retrieval_detail(x, valid, bank, 3, skip_nearest=1,
                           time_shifts=shifts, gap_ramp=1,
                           flip_index=flip, scale_range=scale_range,
                           time_scales=rates)
    mirrored = mirror_sequences(bank, flip)
    assert torch.equal(mirrored[:, :, 0, 0], -bank[:, :, 1, 0])
    assert torch.equal(mirrored[:, :, 2, 1], bank[:, :, 3, 1])
    # half speed about the middle: frame t shows time 2.75 + t / 2
    slow = scale_time(bank, 0.5)
    torch.testing.assert_close(slow[:, 1], bank[:, 3] * .75 + bank[:, 4] * .25)
    torch.testing.assert_close(slow[:, 0], bank[:, 2] * .25 + bank[:, 3] * .75)
    assert scale_time(bank, 1.0) is bank
    assert torch.equal(scale_time(bank, 3.0)[:, 0], bank[:, 0])  # held
    for b in range(3):
        v = valid[b]
        q = x[b][v] - x[b][v].mean((0, 1))
        best = []  # per bank sequence: (distance, scaled sequence)
        for plain, mirror in zip(bank, mirrored):
            options = []
            for seq in (plain, mirror, scale_time(plain[None], 0.5)[0],
                        scale_time(mirror[None], 0.5)[0]):
                for shift in shifts:
                    moved = seq[(torch.arange(12) + shift).clamp(0, 11)]
                    centred = moved[v] - moved[v].mean((0, 1))
                    scale = float((q * centred).sum() /
                                  (centred * centred).sum())
                    scale = min(max(scale, scale_range[0]), scale_range[1])
                    options.append((float(((q - scale * centred)**2).sum()),
                                    scale * moved))
            best.append(min(options, key=lambda o: o[0]))
        chosen = sorted(best, key=lambda o: o[0])[1:4]  # nearest skipped
        dist = torch.tensor([d for d, _ in chosen])
        weights = torch.softmax(-dist / dist[0], 0)
        seqs = torch.stack([m for _, m in chosen])
        fill = akima_fill(seqs * v[None, :, None, None],
                          v[None].expand(3, -1))
        torch.testing.assert_close(
            out[b], torch.einsum('k,ktjc->tjc', weights, seqs - fill))
    with pytest.raises(ValueError, match='scale_range'):
        retrieval_detail(x, valid, bank, 3, scale_range=(0, 1))
    with pytest.raises(ValueError, match='flip_index has 3 entries'):
        retrieval_detail(x, valid, bank, 3, flip_index=[1, 0, 2])
    with pytest.raises(ValueError, match='time_scales'):
        retrieval_detail(x, valid, bank, 3, time_scales=(0, 1))
    # the bank terms prepared once give the same detail
    prepared = prepare_retrieval_bank(bank, rates)
    torch.testing.assert_close(
        retrieval_detail(x, valid, prepared, 3, skip_nearest=1,
                         time_shifts=shifts, gap_ramp=1, flip_index=flip,
                         scale_range=scale_range, time_scales=rates), out)
    with pytest.raises(ValueError, match=r'prepared at rates \(0.5, 1.0\)'):
        retrieval_detail(x, valid, prepared, 3, time_scales=(1.0, ))


def test_retrieval_bank_terms_are_cached_until_the_bank_changes():
    """The module prepares the bank's retrieval terms once, and again when
    the bank is replaced or written in place."""
    gt = smooth(1, 24, 17, 2, seed=6)
    model = make_model(channels=2, retrieval=dict(num_neighbours=1),
                       self_validation=None).eval()
    valid = random_valid((1, 24), 0.75, 'in-between')
    x = gt * valid[..., None, None]
    before = model(x, valid)
    prepared = model._retrieval_bank(x.dtype)
    assert model._retrieval_bank(x.dtype) is prepared
    assert model._retrieval_bank(torch.float64).sequences.dtype == \
        torch.float64
    original = model.bank.sequences.clone()
    twin = original.clone()
    twin[5] = gt[0]
    model.bank.set_sequences(twin)  # a new tensor
    torch.testing.assert_close(model(x, valid), gt, atol=1e-5, rtol=0)
    with torch.no_grad():  # in place, as loading a checkpoint does
        model.bank.sequences.copy_(original)
    torch.testing.assert_close(model(x, valid), before)


def test_retrieval_restores_a_mirrored_rescaled_twin():
    """A bank sequence that is the query mirrored, 1.2x larger and moved is
    found through its mirror image and scale, and restores the query."""
    gt = smooth(1, 24, 17, 2, seed=6)
    model = make_model(channels=2, retrieval=dict(num_neighbours=1,
                                                  flip_index='coco'),
                       self_validation=None)
    bank = model.bank.sequences.clone()
    flip = FLIP_INDEX['coco']
    bank[5] = mirror_sequences(gt[0], flip) * 1.2 + 0.1
    model.bank.set_sequences(bank)
    valid = random_valid((1, 24), 0.75, 'in-between')
    x = gt * valid[..., None, None]
    torch.testing.assert_close(model.eval()(x, valid), gt, atol=1e-5, rtol=0)
    # without the mirror, or with scaling off, it is not found / not exact
    for retrieval in (dict(num_neighbours=1),
                      dict(num_neighbours=1, flip_index='coco',
                           scale_range=None)):
        other = make_model(channels=2, retrieval=retrieval,
                           self_validation=None)
        other.bank.set_sequences(bank)
        assert (other.eval()(x, valid) - gt).abs().max() > 1e-3
    with pytest.raises(ValueError, match='no left/right table'):
        make_model(retrieval=dict(num_neighbours=1, flip_index='kinetics'))
    with pytest.raises(ValueError, match='flip_index has 2 entries'):
        make_model(retrieval=dict(num_neighbours=1, flip_index=[1, 0]))


def test_retrieval_restores_from_a_bank_twin_but_not_in_training():
    """The twin of the query (translated) in the bank restores it exactly
    at test time; in training the nearest sequence, the sample itself when
    training on the bank's split, is left out."""
    gt = smooth(1, 24, 17, 2, seed=5)
    model = make_model(channels=2, retrieval=dict(num_neighbours=1),
                       self_validation=None)
    bank = model.bank.sequences.clone()
    bank[3] = gt[0] + 0.25
    model.bank.set_sequences(bank)
    valid = random_valid((1, 24), 0.75, 'in-between')
    x = gt * valid[..., None, None]
    restored = model.eval()(x, valid)
    torch.testing.assert_close(restored, gt, atol=1e-5, rtol=0)
    akima_error = (akima_fill(x, valid) - gt).abs().max()
    assert akima_error > 1e-2
    assert (model.train()(x, valid) - gt).abs().max() > 1e-2
    assert (model.eval()(x, valid, query_in_bank=True) - gt).abs().max() \
        > 1e-2
    # a frozen ① in a training recognizer stays in eval mode but is told
    # that its inputs come from the bank's split
    recognizer = MODELS.build(dict(
        type='RecognizerFineTec',
        backbone=dict(type='STGCN', graph_cfg=dict(layout='coco',
                                                   mode='spatial'),
                      in_channels=2, base_channels=8, num_stages=1,
                      inflate_stages=[], down_stages=[]),
        completion=dict(type='ContextAwareCompletion', num_joints=17,
                        num_channels=2, clip_len=24, hidden_channels=8,
                        bank=bank, retrieval=dict(num_neighbours=1),
                        self_validation=None)))
    assert not recognizer.train().completion.training
    assert (recognizer.restore(x) - gt).abs().max() > 1e-2
    torch.testing.assert_close(recognizer.eval().restore(x), gt, atol=1e-5,
                               rtol=0)
    with pytest.raises(ValueError, match='num_neighbours'):
        make_model(retrieval=dict(neighbours=3))


def test_akima_fill_matches_scipy():
    from scipy.interpolate import Akima1DInterpolator
    rng = np.random.default_rng(0)
    x = torch.from_numpy(rng.normal(size=(40, 30, 4, 2)).cumsum(1))
    valid = torch.from_numpy(rng.random((40, 30)) < rng.random((40, 1)))
    valid[0] = False  # no observed frame: unchanged
    valid[1] = False
    valid[1, [3, 9]] = True  # two observed frames: linear interpolation
    out = akima_fill(x * valid[..., None, None], valid).numpy()
    linear = linear_fill(x * valid[..., None, None], valid).numpy()
    checked = 0
    for seq, val, got, lin in zip(x.numpy(), valid.numpy(), out, linear):
        np.testing.assert_array_equal(got[val], seq[val])
        frames = np.flatnonzero(val)
        expect = lin.copy()
        if len(frames) >= 3:
            t = np.arange(len(val))
            inside = (t > frames[0]) & (t < frames[-1]) & ~val
            if inside.any():
                expect[inside] = Akima1DInterpolator(
                    frames, seq[frames], axis=0)(t[inside])
                checked += 1
        np.testing.assert_allclose(got, expect, atol=1e-9)
    assert checked > 20


@pytest.mark.parametrize('strategy', ['random', 'prefix', 'suffix',
                                      'in-between', 'burst'])
def test_linear_fill_matches_core(strategy):
    x = smooth(5, 31, 4, 3, seed=3).double()
    valid = random_valid((5, 31), 0.7, strategy, seed=4)
    valid[0] = False  # no observed frame at all: returned unchanged
    valid[1] = True
    x = x * valid[..., None, None]
    out = linear_fill(x, valid)
    for seq, val, got in zip(x, valid, out):
        np.testing.assert_allclose(
            got.numpy(),
            fill_missing_frames(seq.numpy(), val.numpy(), 'linear', axis=0),
            atol=1e-12)


def test_gap_distance_and_envelope():
    valid = torch.tensor([[False, True, False, False, False, True, False],
                          [False] * 7])
    d_prev, d_next = gap_distances(valid)
    assert d_prev.tolist() == [[1, 0, 1, 2, 3, 0, 1], [7] * 7]
    assert d_next.tolist() == [[1, 0, 3, 2, 1, 0, 1], [7] * 7]
    # with the envelope, frames next to observed ones move least (seeded:
    # the model's initial weights follow torch's RNG, and about 1 in 30
    # draws breaks this ordering)
    torch.manual_seed(0)
    model = perturb(make_model()).eval()
    gt = smooth(1, 24, 17, 3)
    valid = torch.ones(1, 24, dtype=torch.bool)
    valid[0, 4:20] = False
    x = gt * valid[..., None, None]
    delta = (model(x, valid) - akima_fill(x, valid)).abs().sum((-1, -2))[0]
    assert delta[4] < delta[8] < delta[12] and delta[19] < delta[12]


def test_correction_is_smooth_and_init_keeps_interpolation():
    lowpass = dct_lowpass(24, 6)
    assert torch.allclose(lowpass @ lowpass, lowpass, atol=1e-5)  # projection
    assert torch.allclose(dct_lowpass(24, 24), torch.eye(24), atol=1e-5)
    # the correction lives in the low-pass band
    model = perturb(make_model()).eval()
    hidden = torch.randn(2, 24, 17, 8)
    delta = model._correct(torch.zeros(2, 24, 17, 3), torch.ones(1), hidden)
    assert delta[..., :2].abs().sum() > 0
    assert torch.allclose(torch.einsum('st,btkc->bskc', model.lowpass, delta),
                          delta, atol=1e-5)
    assert make_model(smooth_freqs=0).lowpass is None
    # a user init_cfg does not undo the zero output projection
    model = make_model(init_cfg=dict(type='Normal', layer='Linear', std=1.))
    model.init_weights()
    assert model.out_proj.weight.abs().sum() == 0
    assert model.units[0].fc.weight.std() > 0.5


def test_validity_defaults_to_nonzero_frames_and_absent_persons_stay_zero():
    model = perturb(make_model()).eval()
    gt = smooth(2, 24, 17, 3)
    valid = random_valid((2, 24), 0.5)
    x = gt * valid[..., None, None]
    x[1] = 0  # padded second person
    out = model(x)  # validity read from the zeros
    assert torch.equal(out[1], torch.zeros_like(out[1]))
    assert torch.equal(out[0][valid[0]], x[0][valid[0]])
    assert out[0][~valid[0]].abs().sum() > 0
    assert torch.equal(out, model(x, valid))


def test_score_channel_is_interpolated_not_learned():
    model = perturb(make_model(coord_channels=2)).train()
    gt = smooth(3, 24, 17, 3)
    valid = random_valid((3, 24), 0.5)
    x = gt * valid[..., None, None]
    out = model(x, valid)
    interp = linear_fill(x, valid)
    assert torch.equal(out[..., 2], interp[..., 2])
    assert not torch.allclose(out[..., :2], interp[..., :2])
    # a wrong score does not change the loss
    torch.manual_seed(0)
    loss = model.loss(x, gt, valid)['loss_icl']
    gt_bad = gt.clone()
    gt_bad[..., 2] += 5
    torch.manual_seed(0)
    assert torch.equal(loss, model.loss(x, gt_bad, valid)['loss_icl'])
    with pytest.raises(ValueError, match='coord_channels'):
        make_model(coord_channels=4)


def test_wrong_clip_length_or_layout_is_rejected():
    model = make_model()
    with pytest.raises(ValueError, match='T=24, K=17, C=3'):
        model(torch.zeros(2, 30, 17, 3))
    with pytest.raises(ValueError, match='T=24, K=17, C=3'):
        model(torch.zeros(2, 24, 17, 2))


def test_loss_is_differentiable_and_reaches_all_weights():
    model = perturb(make_model()).train()
    gt = smooth(4, 24, 17, 3)
    valid = random_valid((4, 24), 0.5)
    losses = model.loss(gt * valid[..., None, None], gt, valid)
    assert set(losses) == {'loss_icl', 'mse_query', 'mse_prompt',
                           'worse_than_base'}
    assert torch.allclose(
        losses['loss_icl'], losses['mse_query'] + losses['mse_prompt'] +
        losses['worse_than_base'])
    losses['loss_icl'].backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name
    # the bank is a buffer (saved in checkpoints), not a parameter
    assert 'bank.sequences' in model.state_dict()
    assert 'bank.sequences' not in dict(model.named_parameters())


def test_the_correction_is_penalised_where_it_is_worse_than_its_base():
    """Untrained, the correction is zero and so is the hinge; a correction
    that makes clips worse than the training-free base is penalised by as
    much, one that makes them better is not."""
    from finetec_mmaction.models.completion.losses import worse_than_base
    gt = smooth(4, 24, 17, 3)
    valid = random_valid((4, 24), 0.5)
    untrained = make_model().train()
    assert float(untrained.loss(gt * valid[..., None, None], gt,
                                valid)['worse_than_base']) == 0
    base = gt + 0.1
    worse, better = gt + 0.2, gt + 0.05
    missing = ~valid
    assert float(worse_than_base(better, base, gt, missing)) == 0
    per_clip_gap = 0.2**2 - 0.1**2
    assert float(worse_than_base(worse, base, gt, missing)) == \
        pytest.approx(per_clip_gap, rel=1e-4)
    # only clips that got worse count: one of four here
    mixed = torch.cat([worse[:1], better[1:]])
    assert float(worse_than_base(mixed, base, gt, missing)) == \
        pytest.approx(per_clip_gap / 4, rel=1e-4)


# ------------------------------------------------------------------ prompts
def test_prompt_masks_come_from_core_masking(monkeypatch):
    assert completion_module.sample_valid_mask is \
        core_masking.sample_valid_mask
    calls = []

    def spy(num_frames, ratio, strategy='random', rng=None, **kw):
        calls.append((num_frames, ratio, strategy))
        return core_masking.sample_valid_mask(num_frames, ratio, strategy,
                                              rng, **kw)

    monkeypatch.setattr(completion_module, 'sample_valid_mask', spy)
    model = make_model(clip_len=40).train()
    torch.manual_seed(0)
    context, valid = model.sample_prompts(200)
    assert context.shape == (200, 40, 17, 3) and valid.shape == (200, 40)
    assert len(calls) == 200
    for (num_frames, ratio, strategy), val in zip(calls, valid):
        assert num_frames == 40
        assert 0.2 <= ratio <= 0.8
        assert strategy in PAPER_STRATEGIES
        assert int((~val).sum()) == num_missing_frames(40, ratio)
    assert {c[2] for c in calls} == set(PAPER_STRATEGIES)
    # every prompt is a bank sequence
    bank = model.bank.sequences
    assert all((bank == c).all(-1).all(-1).all(-1).any() for c in context)


def test_prompts_fixed_in_eval_and_redrawn_in_training():
    model = make_model().eval()
    a, va = model.sample_prompts(3)
    b, vb = model.sample_prompts(3)
    assert torch.equal(a, b) and torch.equal(va, vb)
    model.train()
    torch.manual_seed(1)
    c, vc = model.sample_prompts(3)
    d, vd = model.sample_prompts(3)
    assert not (torch.equal(vc, vd) and torch.equal(c, d))
    # eval output does not depend on the batch it is computed in
    model = perturb(make_model()).eval()
    gt = smooth(4, 24, 17, 3)
    valid = random_valid((4, 24), 0.5)
    x = gt * valid[..., None, None]
    assert torch.allclose(model(x, valid)[:1], model(x[:1], valid[:1]),
                          atol=1e-6)


# --------------------------------------------------------------------- bank
def make_annotation(frame_dir='v0', num_frames=30, num_person=1, seed=0,
                    img_shape=(360, 480), num_joints=17):
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 2 * np.pi, num_frames)[None, :, None, None]
    base = rng.uniform(100, 300, (num_person, 1, num_joints, 2))
    kp = (base + 30 * np.sin(t + rng.uniform(0, 3, base.shape))).astype(
        np.float32)
    return dict(frame_dir=frame_dir, label=int(seed % 3), img_shape=img_shape,
                original_shape=img_shape, total_frames=num_frames,
                keypoint=kp, start_index=0, modality='Pose',
                keypoint_score=rng.uniform(
                    0.5, 1, (num_person, num_frames, num_joints)).astype(
                        np.float32))


def test_bank_from_annotations_normalises_like_the_pipeline():
    anns = [make_annotation('a', 30, seed=0),
            make_annotation('b', 17, num_person=2, seed=1,
                            img_shape=(480, 270))]
    anns[1]['keypoint'][1] = 0  # absent second person: skipped
    bank = SkeletonBank.from_annotations(anns, clip_len=24)
    assert len(bank) == 2 and bank.layout == (17, 3)
    assert bank.sequences.shape == (2, 24, 17, 3)
    assert bank.meta['frame_sampling'] == 'uniform'
    resampled = SkeletonBank.from_annotations(anns, clip_len=24,
                                              frame_sampling='resample')
    outer = np.random.get_state()  # the pipeline below reseeds numpy
    for ann, seq, stretched in zip(anns, bank.sequences,
                                   resampled.sequences):
        # the clip the test pipeline cuts from the clean annotation: 'a'
        # (30 frames) drops 6 seeded frames, 'b' (17 frames) loops
        clip = Compose([PreNormalize2D(),
                        UniformSampleFrames(24, test_mode=True),
                        PoseDecode()])(copy.deepcopy(ann))
        np.testing.assert_allclose(
            seq.numpy(),
            np.concatenate([clip['keypoint'][0],
                            clip['keypoint_score'][0][..., None]], -1),
            atol=1e-5)
        whole = PreNormalize2D().transform(copy.deepcopy(ann))
        expect = np.concatenate(
            [whole['keypoint'][0], ann['keypoint_score'][0][..., None]], -1)
        np.testing.assert_allclose(stretched.numpy(),
                                   resample_sequence(expect, 24), atol=1e-5)
        # ends are kept exactly by the resampling
        np.testing.assert_allclose(stretched[-1].numpy(), expect[-1],
                                   atol=1e-6)
    np.testing.assert_allclose(bank.sequences[1, 17].numpy(),
                               bank.sequences[1, 0].numpy())  # looped
    with pytest.raises(ValueError, match='frame_sampling'):
        SkeletonBank.from_annotations(anns, 24, frame_sampling='loop')
    # leaves numpy's RNG alone: the next draw is the one it would have been
    # (from a state of its own, unlike the seed UniformSampleFrames sets)
    np.random.seed(12345)
    state = np.random.get_state()
    SkeletonBank.from_annotations(anns, 24)
    after_build = np.random.random()
    np.random.set_state(state)
    assert after_build == np.random.random()
    np.random.set_state(outer)
    prior = bank.prior()
    assert torch.allclose(prior, bank.sequences.mean(0))
    # without score, 2 channels; max_size keeps a seeded subset
    assert SkeletonBank.from_annotations(
        anns, 24, with_score=False).layout == (17, 2)
    assert len(SkeletonBank.from_annotations(anns, 24, max_size=1)) == 1


def test_bank_fills_raw_detector_gaps():
    ann = make_annotation(num_frames=20)
    clean = SkeletonBank.from_annotations([ann], 20).sequences[0]
    ann['keypoint'][0, 5:8] = 0
    ann['keypoint_score'][0, 5:8] = 0
    seq = SkeletonBank.from_annotations([ann], 20).sequences[0]
    # zero frames would become -1 after normalisation; they are interpolated
    assert (seq[5:8, :, :2] > -0.99).all()
    assert torch.allclose(seq[5:8, :, :2], clean[5:8, :, :2], atol=0.05)
    assert torch.equal(seq[:5], clean[:5])


@pytest.mark.parametrize('suffix', ['.npz', '.pth'])
def test_bank_save_load_roundtrip(tmp_path, suffix):
    bank = SkeletonBank.from_annotations(
        [make_annotation(str(i), 20 + i, seed=i) for i in range(3)], 16)
    path = str(tmp_path / f'bank{suffix}')
    bank.save(path)
    assert os.listdir(tmp_path) == [f'bank{suffix}']  # no temp file left
    loaded = SkeletonBank.load(path)
    assert torch.equal(loaded.sequences, bank.sequences)
    assert loaded.meta['normalize'] == '2d'
    # another clip length: resampled on load
    assert SkeletonBank.load(path, clip_len=32).sequences.shape == (3, 32, 17,
                                                                    3)
    model = ContextAwareCompletion(17, 3, 16, hidden_channels=4, bank=path)
    assert torch.equal(model.bank.sequences, bank.sequences)


def test_bank_from_pickle_split_and_cache(tmp_path):
    anns = [make_annotation(f'v{i}', 20, seed=i) for i in range(5)]
    ann_file = str(tmp_path / 'data.pkl')
    mmengine.dump(dict(split=dict(train=['v0', 'v1', 'v2'], test=['v3',
                                                                 'v4']),
                       annotations=anns), ann_file)
    cache = str(tmp_path / 'cache' / 'bank.npz')
    cfg = dict(ann_file=ann_file, split='train', cache=cache)
    model = ContextAwareCompletion(17, 3, 16, hidden_channels=4, bank=cfg)
    assert len(model.bank) == 3 and osp.isfile(cache)
    expect = SkeletonBank.from_annotations(anns[:3], 16).sequences
    assert torch.equal(model.bank.sequences, expect)
    # second build reads the cache
    again = ContextAwareCompletion(17, 3, 16, hidden_channels=4, bank=cfg)
    assert torch.equal(again.bank.sequences, expect)
    # a cache from before frame_sampling existed (stretched) is rebuilt
    stale = SkeletonBank.from_annotations(anns[:3], 16,
                                          frame_sampling='resample')
    assert not torch.allclose(stale.sequences, expect)
    stale.meta.pop('frame_sampling')
    stale.save(cache)
    rebuilt = ContextAwareCompletion(17, 3, 16, hidden_channels=4, bank=cfg)
    assert torch.equal(rebuilt.bank.sequences, expect)
    assert SkeletonBank.load(cache).meta['frame_sampling'] == 'uniform'
    resampled = ContextAwareCompletion(
        17, 3, 16, hidden_channels=4,
        bank=dict(cfg, frame_sampling='resample'))
    assert torch.equal(resampled.bank.sequences, stale.sequences)
    # a cache of another split, or of a file rewritten since, is rebuilt
    other_split = ContextAwareCompletion(
        17, 3, 16, hidden_channels=4, bank=dict(cfg, split='test'))
    assert len(other_split.bank) == 2
    mmengine.dump(dict(split=dict(train=['v3', 'v4'], test=['v0']),
                       annotations=anns), ann_file)
    os.utime(ann_file, ns=(1, 1))  # another modification time for sure
    rewritten = ContextAwareCompletion(17, 3, 16, hidden_channels=4,
                                       bank=cfg)
    assert torch.equal(rewritten.bank.sequences,
                       SkeletonBank.from_annotations(anns[3:], 16).sequences)
    with pytest.raises(KeyError, match='unknown split'):
        SkeletonBank.from_pickle(ann_file, 16, split='val')


def test_bank_errors_are_clear(tmp_path):
    bank2d = smooth(4, 24, 17, 2)
    with pytest.raises(ValueError, match=r'17 joints x 2 channels.*'
                       r'expects 17 joints x 3 channels'):
        ContextAwareCompletion(17, 3, 24, bank=bank2d)
    with pytest.raises(ValueError, match=r'25 joints x 3 channels.*'
                       r'expects 17 joints x 3 channels'):
        ContextAwareCompletion(17, 3, 24, bank=smooth(4, 24, 25, 3))
    path = str(tmp_path / 'b.npz')
    SkeletonBank(bank2d).save(path)
    with pytest.raises(ValueError, match='17 joints x 2 channels'):
        ContextAwareCompletion(17, 3, 24, bank=path)
    # empty bank: a clear error at use time
    empty = ContextAwareCompletion(17, 3, 24, bank=None)
    with pytest.raises(RuntimeError, match='skeleton bank is empty'):
        empty(torch.ones(1, 24, 17, 3))
    with pytest.raises(RuntimeError, match='skeleton bank is empty'):
        SkeletonBank.from_annotations([], 24).prior()


def test_checkpoint_carries_the_bank():
    trained = perturb(make_model(bank_size=5)).eval()
    fresh = ContextAwareCompletion(17, 3, 24, hidden_channels=8, bank=None)
    fresh.load_state_dict(trained.state_dict())
    fresh.eval()
    assert torch.equal(fresh.bank.sequences, trained.bank.sequences)
    x = smooth(2, 24, 17, 3)
    valid = random_valid((2, 24), 0.5)
    x = x * valid[..., None, None]
    assert torch.equal(fresh(x, valid), trained(x, valid))
    # mmengine's loader takes the same path
    from mmengine.runner.checkpoint import load_state_dict
    other = ContextAwareCompletion(17, 3, 24, hidden_channels=8, bank=None)
    load_state_dict(other, trained.state_dict(), strict=True)
    assert len(other.bank) == 5
    # a checkpoint of another layout is refused with both layouts named
    wrong = ContextAwareCompletion(17, 2, 24, hidden_channels=8,
                                   bank=smooth(3, 24, 17, 2))
    with pytest.raises(RuntimeError, match='17 joints x 2 channels'):
        ContextAwareCompletion(17, 3, 24, hidden_channels=8).load_state_dict(
            {'bank.sequences': wrong.bank.sequences}, strict=False)


# --------------------------------------------------------------- pretrainer
CLIP = 24


def pipeline(test_mode=False, ratio=0.5, strategy='random'):
    return Compose([
        dict(type='PreNormalize2D'),
        dict(type='TemporalCorruption', ratio=ratio, strategy=strategy,
             test_mode=test_mode, keep_clean=True),
        dict(type='GenSkeFeat', dataset='coco', feats=['j']),
        dict(type='UniformSampleFrames', clip_len=CLIP, num_clips=1,
             test_mode=test_mode),
        dict(type='PoseDecode'),
        dict(type='FormatGCNInput', num_person=2),
        dict(type='FormatCorruptionTargets', num_person=2),
        dict(type='PackActionInputs',
             algorithm_keys=('frame_valid', 'keypoint_clean'),
             meta_keys=('frame_dir', 'corrupt_ratio', 'corrupt_strategy')),
    ])


def test_pretrainer_trains_and_predicts_through_the_pipeline():
    anns = [make_annotation(f'v{i}', 40 + 3 * i, seed=i) for i in range(8)]
    cfg = dict(
        type='CompletionPretrainer',
        completion=dict(
            type='ContextAwareCompletion', num_joints=17, num_channels=3,
            clip_len=CLIP, hidden_channels=8,
            bank=SkeletonBank.from_annotations(anns, CLIP)))
    torch.manual_seed(0)
    np.random.seed(0)
    model = MODELS.build(cfg)
    assert isinstance(model, CompletionPretrainer)
    train = pipeline(ratio=0.75, strategy='in-between')
    batch = pseudo_collate([train(copy.deepcopy(a)) for a in anns])
    assert batch['inputs'][0].shape == (1, 2, CLIP, 17, 3)

    def fixed_loss():
        torch.manual_seed(123)  # same prompts every time
        with torch.no_grad():
            data = model.data_preprocessor(copy.deepcopy(batch), True)
            return float(model(**data, mode='loss')['loss_icl'])

    optim = OptimWrapper(torch.optim.Adam(model.parameters(), lr=3e-3))
    before = fixed_loss()
    for _ in range(15):
        log_vars = model.train_step(copy.deepcopy(batch), optim)
    assert set(log_vars) >= {'loss', 'loss_icl', 'mse_query', 'mse_prompt'}
    after = fixed_loss()
    assert after < 0.9 * before, (before, after)

    # predict: observed frames kept, pred_keypoint for the metric
    test = pipeline(test_mode=True)
    batch = pseudo_collate([test(copy.deepcopy(a)) for a in anns[:3]])
    outputs = model.val_step(batch)
    assert len(outputs) == 3
    for ds, inp in zip(outputs, batch['inputs']):
        pred = ds.pred_keypoint
        assert pred.shape == inp.shape
        valid = torch.as_tensor(ds.frame_valid)[:, None].expand(
            inp.shape[:3])
        assert torch.equal(pred[valid], inp.float()[valid])
        assert ds.corrupt_strategy == 'random' and ds.corrupt_ratio == 0.5
    metric = CompletionMetric(baselines=('zero', 'linear'))
    metric.dataset_meta = {}
    metric.process(batch, [ds.to_dict() for ds in outputs])
    results = metric.evaluate(3)
    assert results['completion/random@0.5/mpjpe'] == results[
        'completion/mpjpe']
    assert results['completion/mpjpe'] < results['completion/zero/mpjpe']
    assert 'completion/linear/random@0.5/mpjve' in results

    # the loss needs the clean sequence
    for ds in batch['data_samples']:
        del ds.keypoint_clean
    with pytest.raises(KeyError, match='keep_clean=True'):
        model.train_step(batch, optim)


def test_mpjpe_reconstruction_loss_on_a_hand_computed_example():
    # one missing frame, two joints off by a 3-4-5 triangle and by 0
    pred = torch.zeros(1, 3, 2, 2)
    target = torch.zeros(1, 3, 2, 2)
    pred[0, 1, 0] = torch.tensor([3., 4.])
    pred[0, 0, 1] = torch.tensor([9., 9.])  # observed frame: not scored
    frames = torch.tensor([[False, True, False]])
    assert torch.isclose(masked_joint_error(pred, target, frames),
                         torch.tensor(2.5))
    assert torch.isclose(masked_mse(pred, target, frames),
                         torch.tensor(25. / 4))
    model = perturb(make_model(reconstruction_loss='mpjpe')).train()
    gt = smooth(2, 24, 17, 3)
    valid = random_valid((2, 24), 0.5)
    losses = model.loss(gt * valid[..., None, None], gt, valid)
    assert set(losses) == {'loss_icl', 'mpjpe_query', 'mpjpe_prompt',
                           'worse_than_base'}
    losses['loss_icl'].backward()
    assert all(torch.isfinite(p.grad).all()
               for p in model.parameters() if p.grad is not None)
    with pytest.raises(ValueError, match='reconstruction_loss'):
        make_model(reconstruction_loss='l1')
