"""Safe restoration (issue 15): self-validation decides, and where nothing
helps a clip it keeps linear interpolation."""
import numpy as np
import pytest
import torch

from finetec_mmaction.core.fill import akima_fill, linear_fill
from finetec_mmaction.core.masking import sample_valid_mask
from finetec_mmaction.core.retrieval import (Neighbours, find_neighbours,
                                             neighbour_detail,
                                             neighbour_details,
                                             prepare_retrieval_bank,
                                             retrieval_detail)
from finetec_mmaction.core.neighbour_evidence import (cross_prediction,
                                                      detail_agreement,
                                                      neighbour_preference,
                                                      observed_halves)
from finetec_mmaction.core.self_validation import (
    BlendTable, calibrate_blend, gap_bins, gap_lengths,
    interpolation_preference, probe_masks, retrieval_confidence, safe_blend)
from finetec_mmaction.models.completion import ContextAwareCompletion

T, K = 48, 5


def masks(num, ratio, strategy, seed=0, num_frames=T):
    rng = np.random.default_rng(seed)
    return torch.from_numpy(np.stack([
        sample_valid_mask(num_frames, ratio, strategy, rng)
        for _ in range(num)
    ]))


def sines(num, seed=0, period=5.0):
    gen = torch.Generator().manual_seed(seed)
    phase = torch.rand(num, 1, K, 2, generator=gen) * 6
    t = torch.arange(T, dtype=torch.float32)[None, :, None, None]
    return torch.sin(t / period + phase)


def random_walks(num, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(num, T, K, 2, generator=gen).cumsum(1) * 0.1


def test_gap_lengths_bins_and_probes():
    valid = torch.tensor([[1, 0, 0, 1, 1, 0, 1, 1, 1, 1]], dtype=torch.bool)
    assert gap_lengths(valid).tolist() == [[0, 2, 2, 0, 0, 1, 0, 0, 0, 0]]
    assert gap_bins(valid, (1, 2, 4)).tolist() == [[0, 1, 1, 0, 0, 0, 0, 0,
                                                    0, 0]]
    hidden = probe_masks(valid, (-0.25, 0.25))
    # mean gap length 5/3: one frame either way; only observed frames are
    # hidden, never the first or last one
    assert not (hidden & ~valid).any()
    assert hidden[0].tolist() == [[0, 0, 0, 0, 1, 0, 0, 0, 0, 0]]
    assert hidden[1].tolist() == [[0, 0, 0, 1, 0, 0, 1, 0, 0, 0]]


def test_self_validation_prefers_akima_on_smooth_and_linear_on_rough():
    """On a smooth clip Akima's spline restores the clip's own hidden frames
    better, on a random walk (whose best guess inside a gap *is* the
    straight line) linear interpolation does; the module then returns
    exactly that fill."""
    valid = masks(1, 0.5, 'burst', seed=3)
    model = ContextAwareCompletion(num_joints=K, num_channels=2,
                                   clip_len=T, bank=sines(8, seed=9)).eval()
    for clip, prefer in ((sines(1, seed=1), 'akima'),
                         (random_walks(1, seed=4), 'linear')):
        x = clip * valid[..., None, None]
        z = float(interpolation_preference(x, valid))
        # beyond the module's default threshold (4)
        assert (z > 4) if prefer == 'akima' else (z < -4), (prefer, z)
        expect = akima_fill(x, valid) if prefer == 'akima' else \
            linear_fill(x, valid)
        torch.testing.assert_close(model(x, valid), expect, atol=1e-6,
                                   rtol=0)
    # no evidence either way (too few hidden frames): Akima's spline
    x = sines(1)[:, :4]
    assert float(interpolation_preference(
        x * torch.tensor([[1, 0, 0, 1]])[..., None, None].float(),
        torch.tensor([[True, False, False, True]]))) == 0


def test_fallback_to_linear_when_the_bank_has_nothing_similar():
    """A clip unlike every bank sequence gets no retrieval detail: its
    restoration is linear interpolation to 1e-6, where the unguarded
    retrieval of earlier versions moves it."""
    # a bank of one movement (a sine, each copy a little noisy): its
    # sequences explain each other well
    bank = sines(1, seed=2).expand(12, -1, -1, -1) + 0.01 * torch.randn(
        12, T, K, 2, generator=torch.Generator().manual_seed(0))
    # one movement the bank does not hold: a straight line (Akima's spline
    # is exact on it too, so any deviation would be the detail's)
    t = torch.arange(T, dtype=torch.float32)[None, :, None, None]
    clip = 0.05 * t * torch.linspace(-1, 1, K * 2).view(1, 1, K, 2)
    valid = masks(1, 0.75, 'in-between', seed=1)
    x = clip * valid[..., None, None]
    retrieval = dict(num_neighbours=2)
    safe = ContextAwareCompletion(num_joints=K, num_channels=2, clip_len=T,
                                  bank=bank, retrieval=retrieval).eval()
    out = safe(x, valid)
    torch.testing.assert_close(out, linear_fill(x, valid), atol=1e-6,
                               rtol=0)
    table = safe.restoration.blend_table(safe.bank.sequences, x.dtype)
    _, fit = retrieval_detail(x, valid, safe._retrieval_bank(x.dtype),
                              return_fit=True,
                              **safe.restoration.retrieval)
    assert float(retrieval_confidence(fit, table.fit_ref, valid)) == 0
    unguarded = ContextAwareCompletion(
        num_joints=K, num_channels=2, clip_len=T, bank=bank,
        retrieval=retrieval, self_validation=None).eval()
    assert (unguarded(x, valid) - out).abs().max() > 1e-3


def twin_pairs(num=10):
    """A bank of ``num`` smooth movements, each twice (a little noise)."""
    base = sines(num, seed=5, period=7.0)
    noise = 0.01 * torch.randn(num, T, K, 2,
                               generator=torch.Generator().manual_seed(1))
    return torch.cat([base, base + noise])


def test_a_clip_the_bank_explains_takes_the_detail():
    """A clip whose twin is in the bank (fit 0) takes the detail with the
    bank's self-validated weight: a bank whose sequences restore each other
    (pairs) trusts it on long gaps."""
    bank = twin_pairs()
    clip = bank[4:5] + 0.3
    valid = masks(1, 0.75, 'in-between', seed=1)
    x = clip * valid[..., None, None]
    model = ContextAwareCompletion(num_joints=K, num_channels=2, clip_len=T,
                                   bank=bank,
                                   retrieval=dict(num_neighbours=1)).eval()
    out = model(x, valid)
    table = model.restoration.blend_table(model.bank.sequences, x.dtype)
    assert float(table.beta[gap_bins(valid)[~valid]].min()) > 0
    error = (out - clip).abs().max()
    assert error < 0.5 * (linear_fill(x, valid) - clip).abs().max()


def test_bank_calibration_is_deterministic_and_follows_the_bank():
    """Self-validation on the bank: a bank of near-duplicate pairs, where a
    sequence's neighbour shows its gaps, takes the detail on long gaps; a
    bank of unrelated random walks takes none."""
    retrieval = dict(num_neighbours=1, time_shifts=(0, ), scale_range=None,
                     time_scales=(1.0, ))
    pairs = twin_pairs()
    walks = random_walks(20, seed=6)
    tables = {}
    for name, bank in (('pairs', pairs), ('walks', walks)):
        prepared = prepare_retrieval_bank(bank)
        tables[name] = calibrate_blend(bank, prepared, retrieval,
                                       num_samples=64)
        again = calibrate_blend(bank, prepared, retrieval, num_samples=64)
        for a, b in zip(tables[name], again):
            assert torch.equal(a, b)
    long_gaps = slice(3, None)  # gaps of 8 frames and more
    assert float(tables['pairs'].beta[long_gaps].min()) >= 0.5
    assert float(tables['walks'].beta[long_gaps].max()) <= 0.25
    assert (tables['pairs'].fit_ref < tables['walks'].fit_ref).all()


def test_safe_blend_weights():
    valid = masks(2, 0.5, 'in-between', seed=2)
    gen = torch.Generator().manual_seed(3)
    linear, akima, detail = (torch.randn(2, T, K, 2, generator=gen)
                             for _ in range(3))
    bins = len(gap_bins(valid)[0])  # any size >= the classes used
    table = BlendTable(torch.full((bins, ), 0.5), torch.full((bins, ), 1.0),
                       torch.full((5, ), 0.1))
    no_evidence = torch.zeros(2)
    # a clip explained as well as the bank explains itself: the table
    out = safe_blend(linear, akima, valid, no_evidence, detail,
                     torch.tensor([0.1, 0.2]), table)
    torch.testing.assert_close(out[0], (linear + 0.5 * (akima - linear) +
                                        detail)[0])
    # twice as badly: no detail, Akima's spline (no evidence against it)
    torch.testing.assert_close(out[1], akima[1])
    # the clip's own evidence for linear interpolation overrides both
    out = safe_blend(linear, akima, valid, torch.tensor([-5.0, -5.0]), detail,
                     torch.tensor([0.1, 0.2]), table)
    torch.testing.assert_close(out[1], linear[1])
    torch.testing.assert_close(out[0], (linear + detail)[0])
    with pytest.raises(ValueError, match='fit and table'):
        safe_blend(linear, akima, valid, no_evidence, detail)


@pytest.mark.parametrize('options, match', [
    (dict(z=1), 'unknown'),
    (dict(novelty=(2, 1)), 'novelty'),
    (dict(agreement_range=(3, 3)), 'agreement_range'),
    (dict(neighbour_threshold=0), 'neighbour_threshold'),
    (dict(cross_range=(6, 2)), 'cross_range'),
])
def test_self_validation_options_are_checked(options, match):
    with pytest.raises(ValueError, match=match):
        ContextAwareCompletion(num_joints=K, num_channels=2, clip_len=T,
                               self_validation=options)


def test_retrieval_detail_is_the_neighbours_weighted_detail():
    """The split into search and detail changes nothing."""
    bank = prepare_retrieval_bank(sines(12, seed=4), (0.85, 1.0, 1.15))
    clip, valid = sines(3, seed=5), masks(3, 0.6, 'burst', seed=6)
    options = dict(num_neighbours=4, time_shifts=(-2, 0, 2),
                   flip_index=[1, 0, 2, 4, 3], scale_range=(0.7, 1.4),
                   time_scales=(0.85, 1.0, 1.15))
    detail, fit = retrieval_detail(clip, valid, bank, return_fit=True,
                                   **options)
    neighbours = find_neighbours(clip, valid, bank, **options)
    assert neighbours.sequences.shape == (3, 4, T, K, 2)
    torch.testing.assert_close(neighbours.weights.sum(1), torch.ones(3))
    torch.testing.assert_close(
        neighbour_detail(neighbours, neighbour_details(neighbours, valid),
                         valid), detail)
    torch.testing.assert_close(neighbours.fit, fit)


def neighbours_of(sequences):
    """Equal-weight :class:`Neighbours` ``(1, k, T, K, 2)``."""
    k = len(sequences)
    return Neighbours(sequences[None], torch.full((1, k), 1 / k),
                      torch.ones(1, k), torch.zeros(1))


def test_neighbour_preference_reads_how_similar_sequences_bend():
    """Neighbours that are random walks (their best guess inside a gap is
    the straight line) vote for linear interpolation, smooth ones for
    Akima's spline."""
    valid = masks(1, 0.75, 'in-between', seed=1)
    smooth = neighbour_preference(neighbours_of(sines(8, seed=2,
                                                      period=9.0)), valid)
    rough = neighbour_preference(neighbours_of(random_walks(8, seed=2)),
                                 valid)
    assert float(smooth) > 2 and float(rough) < 0
    assert float(neighbour_preference(neighbours_of(sines(1)), valid)) == 0
    # the neighbours' losses to either fill, when already made, are reused
    # (scaled neighbours: the details carry the scale)
    mixed = neighbours_of(torch.cat([sines(4, seed=3), random_walks(4)]))
    mixed = mixed._replace(scale=torch.linspace(0.7, 1.4, 8)[None])
    fresh = neighbour_preference(mixed, valid)
    for method in ('akima', 'linear'):
        reused = neighbour_preference(
            mixed, valid, neighbour_details(mixed, valid, method), method)
        torch.testing.assert_close(reused, fresh, rtol=1e-5, atol=1e-5)


def test_detail_agreement_is_relative_to_chance():
    """Neighbours that lose the same to the fill agree up to their number;
    details that cancel do not agree at all."""
    valid = masks(1, 0.5, 'in-between', seed=3)
    same = neighbours_of(sines(1, seed=4).expand(6, -1, -1, -1))
    agreement = detail_agreement(neighbour_details(same, valid),
                                 same.weights)
    torch.testing.assert_close(agreement, torch.tensor([6.0]))
    details = neighbour_details(neighbours_of(sines(2, seed=4)), valid)
    details = torch.cat([details[:, :1], -details[:, :1]], 1)
    assert float(detail_agreement(details, torch.full((1, 2), 0.5))) < 1e-6


def test_safe_blend_opt_in_signals():
    """Neighbours' vote for linear interpolation moves a clip without its
    own evidence to linear; neighbours that do not agree beyond chance
    give no detail."""
    valid = masks(2, 0.5, 'in-between', seed=2)
    gen = torch.Generator().manual_seed(3)
    linear, akima, detail = (torch.randn(2, T, K, 2, generator=gen)
                             for _ in range(3))
    bins = len(gap_bins(valid)[0])
    table = BlendTable(torch.full((bins, ), 0.5), torch.full((bins, ), 1.0),
                       torch.full((5, ), 0.1))
    fit = torch.tensor([0.1, 0.2])  # clip 0 takes the detail, clip 1 not
    no_evidence = torch.zeros(2)
    out = safe_blend(linear, akima, valid, no_evidence, detail, fit, table,
                     neighbour_z=torch.tensor([0.0, -3.0]),
                     neighbour_threshold=2.0)
    torch.testing.assert_close(out[1], linear[1])
    torch.testing.assert_close(out[0], (linear + 0.5 * (akima - linear) +
                                        detail)[0])
    out = safe_blend(linear, akima, valid, no_evidence, detail, fit, table,
                     agreement=torch.tensor([2.0, 9.0]),
                     agreement_range=(3.0, 6.0))
    torch.testing.assert_close(out[0], akima[0])
    out = safe_blend(linear, akima, valid, no_evidence, detail, fit, table,
                     agreement=torch.tensor([4.5, 9.0]),
                     agreement_range=(3.0, 6.0))
    # half way up the ramp: half the table's weights, half the plain fill's
    torch.testing.assert_close(out[0], (linear + 0.75 * (akima - linear) +
                                        0.5 * detail)[0])


def test_cross_prediction_tells_a_bank_that_carries_the_clip_across():
    """Neighbours found on one half of the observed frames predict the
    other half: exactly where the bank holds the clip's own movement, no
    better than holding still where it holds unrelated motion; nan where a
    half is empty."""
    valid = masks(3, 0.75, 'in-between', seed=4)
    first, second = observed_halves(valid)
    assert not (first & second).any() and ((first | second) == valid).all()
    assert (first.sum(1) - second.sum(1)).abs().max() <= 1
    clips = sines(3, seed=5, period=9.0)
    x = clips * valid[..., None, None]
    search = dict(num_neighbours=2)
    related = prepare_retrieval_bank(torch.cat([clips, sines(6, seed=6)]))
    unrelated = prepare_retrieval_bank(random_walks(8, seed=7))
    carried = cross_prediction(x, valid, related, **search)
    held = cross_prediction(x, valid, unrelated, **search)
    assert (carried < 0.05).all() and (held > 0.5).all(), (carried, held)
    one = torch.zeros(1, T, dtype=torch.bool)
    one[0, 3] = True
    assert torch.isnan(cross_prediction(x[:1] * one[..., None, None], one,
                                        related, **search)).all()
    # in safe_blend: no detail from cross_range[1] on; nan leaves gamma
    linear, akima, detail = (torch.randn(3, T, K, 2) for _ in range(3))
    bins = len(gap_bins(valid)[0])
    table = BlendTable(torch.full((bins, ), 0.5), torch.full((bins, ), 1.0),
                       torch.full((5, ), 0.1))
    fit, none = torch.full((3, ), 0.1), torch.zeros(3)
    out = safe_blend(linear, akima, valid, none, detail, fit, table,
                     cross_ratio=torch.tensor([6.0, 4.0, float('nan')]),
                     cross_range=(2.0, 6.0))
    torch.testing.assert_close(out[0], akima[0])
    torch.testing.assert_close(out[1], (linear + 0.75 * (akima - linear) +
                                        0.5 * detail)[1])
    torch.testing.assert_close(out[2], (linear + 0.5 * (akima - linear) +
                                        detail)[2])


def test_opt_in_signals_run_in_the_module():
    """Both options, set in a config's self_validation, restore a batch;
    without them the restoration is unchanged."""
    bank = sines(10, seed=7)
    clip, valid = sines(2, seed=8), masks(2, 0.75, 'in-between', seed=9)
    outs = []
    for extra in (dict(), dict(neighbour_threshold=2.0,
                               agreement_range=(3.0, 6.0),
                               cross_range=(2.0, 6.0))):
        model = ContextAwareCompletion(
            num_joints=K, num_channels=2, clip_len=T, bank=bank,
            retrieval=dict(num_neighbours=4),
            self_validation=dict(num_samples=32, **extra)).eval()
        with torch.no_grad():
            outs.append(model(clip * valid[..., None, None], valid))
    assert all(torch.isfinite(o).all() for o in outs)
    for out in outs:
        torch.testing.assert_close(out[valid], clip[valid])
