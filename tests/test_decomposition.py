"""Module ②: region tables and motion (core), the RegionDecomposition
transform and the in-model SpatialDecomposition + fusions."""
import numpy as np
import pytest
import torch
from mmengine.dataset import Compose

import finetec_mmaction  # noqa: F401  (compat fixes + registration first)
from finetec_mmaction.core import (FLIP_INDEX, REGIONS, decompose_regions,
                                   finite_difference_acceleration,
                                   finite_difference_velocity, get_regions,
                                   linear_fill, perturb_dynamic,
                                   perturb_static, region_motion,
                                   split_dynamic_static)
from finetec_mmaction.datasets.transforms import RegionDecomposition
from finetec_mmaction.models.decomposition import (CrossAttentionFusion,
                                                   MLPFusion,
                                                   SpatialDecomposition)
from mmaction.registry import MODELS, TRANSFORMS

# joints that move in the hand-made sequences: right arm and left leg
MOVING = {
    'coco': [6, 8, 10, 11, 13, 15],
    'nturgb+d': [8, 9, 10, 11, 23, 24, 12, 13, 14, 15],
}
NUM_JOINTS = {'coco': 17, 'nturgb+d': 25}


def moving_sequence(layout, num_frames=16, channels=None, persons=1, seed=0):
    """(M, T, V, C): a fixed random pose, only the right arm and left leg
    move (sinusoids); C = 2 for coco, 3 for nturgb+d."""
    rng = np.random.default_rng(seed)
    channels = channels or (2 if layout == 'coco' else 3)
    V = NUM_JOINTS[layout]
    pose = rng.uniform(-0.5, 0.5, (V, channels))
    seq = np.repeat(pose[None, None], num_frames, 1).repeat(persons, 0)
    t = np.arange(num_frames)[:, None]
    for k, j in enumerate(MOVING[layout]):
        seq[:, :, j] += 0.2 * np.sin(0.5 * t + k) * (1 + (k % 2))
    seq += rng.normal(0, 1e-4, seq.shape)  # static regions barely move
    return seq.astype(np.float32)


def expected_mask(layout):
    mask = np.zeros(NUM_JOINTS[layout], bool)
    mask[MOVING[layout]] = True
    return mask


# ----------------------------------------------------------------------------
# core/regions.py
# ----------------------------------------------------------------------------
def test_region_tables_match_spec():
    assert REGIONS['coco'] == [[0, 1, 2, 3, 4], [5, 7, 9], [6, 8, 10],
                               [11, 13, 15], [12, 14, 16]]
    assert REGIONS['nturgb+d'] == [[0, 1, 2, 3, 20], [4, 5, 6, 7, 21, 22],
                                   [8, 9, 10, 11, 23, 24], [12, 13, 14, 15],
                                   [16, 17, 18, 19]]
    for layout, regions in REGIONS.items():
        joints = sorted(j for r in regions for j in r)
        assert joints == list(range(NUM_JOINTS[layout]))  # a partition


def test_get_regions_errors():
    with pytest.raises(ValueError, match="layout 'openpose' has no region "
                       r'table; pass regions=\[\[...\], ...\] in the config'):
        get_regions('openpose')
    with pytest.raises(ValueError, match='out of range'):
        get_regions([[0, 1], [2, 18]], num_joints=18)
    with pytest.raises(ValueError, match='must not overlap'):
        get_regions([[0, 1], [1, 2]])
    with pytest.raises(ValueError, match='empty'):
        get_regions([[0, 1], []])
    assert get_regions([[3, 2], [0]]) == [[3, 2], [0]]
    # the transform and the module fail at build time
    with pytest.raises(ValueError, match="layout 'openpose' has no region"):
        TRANSFORMS.build(dict(type='RegionDecomposition', layout='openpose'))
    with pytest.raises(ValueError, match="layout 'openpose' has no region"):
        MODELS.build(dict(type='SpatialDecomposition', layout='openpose'))
    # ... and work with regions from the config
    custom = [[0, 1, 2, 3, 4], [5, 6, 7], [8, 9, 10], [11, 12, 13],
              [14, 15, 16, 17]]
    t = RegionDecomposition(layout='openpose', regions=custom)
    out = t(dict(keypoint=np.random.rand(1, 6, 18, 2).astype(np.float32)))
    assert out['keypoint_dyna'].shape == (1, 6, 18, 2)


@pytest.mark.parametrize('layout', ['coco', 'nturgb+d'])
def test_dynamic_regions_of_hand_made_sequence(layout):
    seq = moving_sequence(layout, persons=2)
    motion = region_motion(seq, regions=layout)  # numpy in, numpy out
    assert isinstance(motion, np.ndarray) and motion.shape == (2, 5)
    assert set(np.argsort(-motion[0])[:2]) == {2, 3}  # right arm, left leg
    dynamic, static = split_dynamic_static(motion, layout)
    assert dynamic.shape == (2, NUM_JOINTS[layout])
    np.testing.assert_array_equal(dynamic[0], expected_mask(layout))
    np.testing.assert_array_equal(static, ~dynamic)
    # torch in, torch out: the same numbers
    motion_t = region_motion(torch.from_numpy(seq), regions=layout)
    assert isinstance(motion_t, torch.Tensor)
    np.testing.assert_allclose(motion_t.numpy(), motion, rtol=1e-6)


def test_region_motion_ignores_missing_frames():
    seq = moving_sequence('coco', num_frames=20)
    valid = np.ones(20, bool)
    valid[[3, 4, 9, 15]] = False
    corrupted = seq.copy()
    corrupted[:, ~valid] = 0  # zero-filled, as TemporalCorruption does
    with_mask = region_motion(corrupted, valid, 'coco')
    inferred = region_motion(corrupted, None, 'coco')  # zeros = missing
    np.testing.assert_allclose(with_mask, inferred)
    # zero frames do not count as huge jumps: same order of magnitude
    clean = region_motion(seq, None, 'coco')
    assert np.all(with_mask < 2 * clean + 1e-3)
    d1, _ = split_dynamic_static(with_mask, 'coco')
    np.testing.assert_array_equal(d1[0], expected_mask('coco'))


def test_split_ties_and_custom_regions():
    motion = torch.zeros(3, 5)  # e.g. a padded, motionless person
    dynamic, static = split_dynamic_static(motion, 'coco')
    # ties resolve to the first regions: head + left arm
    assert dynamic[0].nonzero().flatten().tolist() == [0, 1, 2, 3, 4, 5, 7, 9]
    regions = [[0, 1], [2], [4, 5]]  # joint 3 in no region
    d, s = split_dynamic_static(
        np.array([0.1, 0.5, 0.3]), regions, num_joints=6, num_dynamic=1)
    assert d.tolist() == [False, False, True, False, False, False]
    assert s.tolist() == [True, True, False, False, True, True]
    with pytest.raises(ValueError, match='num_dynamic'):
        split_dynamic_static(np.zeros(3), regions, 6, num_dynamic=3)


@pytest.mark.parametrize('layout,channels', [('coco', 3), ('nturgb+d', 3)])
def test_perturbations_touch_only_their_joints(layout, channels):
    seq = moving_sequence(layout, num_frames=20, channels=channels,
                          persons=2)
    if layout == 'coco':
        # scores equal for left/right partners: mirroring swaps partners
        score = np.random.default_rng(1).uniform(0.5, 1, seq.shape[:-1])
        seq[..., 2] = score + score[..., FLIP_INDEX['coco']]
    valid = np.ones((2, 20), bool)
    valid[:, [5, 6, 12]] = False
    seq[~valid] = 0
    parts = decompose_regions(
        seq, layout, valid=valid, generator=torch.Generator().manual_seed(0),
        mirror_prob=1.0)
    dyn, stat = parts['dynamic'], parts['static']
    dyna, stat_seq = parts['dyna'], parts['stat']
    assert dyna.shape == stat_seq.shape == seq.shape
    assert dyna.dtype == seq.dtype
    for m in range(2):
        # static joints untouched in S_dyna, dynamic joints in S_stat
        np.testing.assert_array_equal(dyna[m][:, ~dyn[m]], seq[m][:, ~dyn[m]])
        np.testing.assert_array_equal(stat_seq[m][:, ~stat[m]],
                                      seq[m][:, ~stat[m]])
        # ... and the others are perturbed
        assert not np.allclose(dyna[m][:, dyn[m]], seq[m][:, dyn[m]])
        assert not np.allclose(stat_seq[m][:, stat[m]], seq[m][:, stat[m]])
    # missing frames stay exactly zero
    assert np.all(dyna[~valid] == 0) and np.all(stat_seq[~valid] == 0)
    if layout == 'coco':
        # the score channel is not moved spatially (num_coords = 2), only
        # carried along with a mirrored partner
        np.testing.assert_array_equal(
            stat_seq[..., 2][valid], seq[..., 2][valid])


def test_one_implementation_for_numpy_and_torch():
    seq = moving_sequence('coco', num_frames=12, persons=2)
    dyn, stat = split_dynamic_static(region_motion(seq, None, 'coco'), 'coco')
    for fn, mask in ((perturb_dynamic, dyn), (perturb_static, stat)):
        out_np = fn(seq, mask, generator=torch.Generator().manual_seed(3))
        out_t = fn(torch.from_numpy(seq), torch.from_numpy(mask),
                   generator=torch.Generator().manual_seed(3))
        assert isinstance(out_np, np.ndarray)
        np.testing.assert_allclose(out_np, out_t.numpy())
    # deterministic under a seeded generator
    a = decompose_regions(seq, 'coco', generator=torch.Generator().manual_seed(
        5))['dyna']
    b = decompose_regions(seq, 'coco', generator=torch.Generator().manual_seed(
        5))['dyna']
    np.testing.assert_array_equal(a, b)
    with pytest.raises(TypeError, match='Unknown perturbation'):
        decompose_regions(seq, 'coco', jitter=0.1)


def test_mirror_swaps_static_partners():
    # both legs static: the left leg takes the mirrored right leg
    seq = moving_sequence('coco', num_frames=6)
    static = np.zeros(17, bool)
    static[[11, 12, 13, 14, 15, 16]] = True
    out = perturb_static(seq, static, num_coords=2, mirror_prob=1.0,
                         max_rotation=0.0, scale_range=(1.0, 1.0),
                         flip_index=[0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12,
                                     11, 14, 13, 16, 15])
    centre = seq[..., 0].mean(-1)
    np.testing.assert_allclose(out[..., 11, 0], 2 * centre - seq[..., 12, 0],
                               atol=1e-6)
    np.testing.assert_allclose(out[..., 11, 1], seq[..., 12, 1])


def test_linear_fill_is_linear():
    x = torch.arange(6.).view(1, 6, 1, 1).repeat(2, 1, 1, 1) * 2
    keep = torch.tensor([[1, 0, 0, 1, 1, 0], [0, 1, 1, 1, 1, 1]]).bool()
    x_in = x * keep[..., None, None]
    out = linear_fill(x_in, keep)
    assert out[0, :, 0, 0].tolist() == [0, 2, 4, 6, 8, 8]  # end held
    assert out[1, :, 0, 0].tolist() == [2, 2, 4, 6, 8, 10]


def test_finite_differences():
    t = np.arange(6, dtype=np.float32)
    seq = np.stack([t**2, 3 * t], -1)[:, None]  # (T, V=1, C=2)
    acc = finite_difference_acceleration(seq, time_dim=0)
    # interior 2, replicate-padded ends: S1 - S0 and S_{T-2} - S_{T-1}
    assert acc[:, 0, 0].tolist() == [1, 2, 2, 2, 2, -9]
    assert acc[1:-1, 0, 1].tolist() == [0, 0, 0, 0]
    vel = finite_difference_velocity(torch.from_numpy(seq), time_dim=0)
    assert vel[:, 0, 1].tolist() == [0, 3, 3, 3, 3, 3]
    # missing frames: no acceleration where the stencil touches them
    valid = torch.tensor([True, True, True, False, True, True])
    acc_v = finite_difference_acceleration(torch.from_numpy(seq), 0, valid)
    assert acc_v[:, 0, 0].tolist() == [1, 2, 0, 0, 0, -9]


# ----------------------------------------------------------------------------
# RegionDecomposition transform
# ----------------------------------------------------------------------------
def coco_sample(num_frames=24, seed=0):
    seq = moving_sequence('coco', num_frames, seed=seed)
    keypoint = (seq + 1) * np.array([640, 360], np.float32)  # pixels
    return dict(
        keypoint=keypoint.astype(np.float16),
        keypoint_score=np.full((1, num_frames, 17), 0.9, np.float16),
        total_frames=num_frames,
        img_shape=(720, 1280),
        frame_dir=f'sample_{seed}',
        label=3,
        start_index=0)


def test_transform_extra_keys_coco_and_ntu():
    out = RegionDecomposition(layout='coco')(coco_sample())
    assert out['keypoint_dyna'].shape == (1, 24, 17, 2)
    assert out['keypoint_dyna'].dtype == np.float16
    assert out['keypoint_score_dyna'].shape == (1, 24, 17)
    assert out['keypoint_stat'].shape == (1, 24, 17, 2)
    np.testing.assert_array_equal(out['dynamic_joints'][0],
                                  expected_mask('coco'))
    ntu = dict(keypoint=moving_sequence('nturgb+d', 20, persons=2))
    out = RegionDecomposition(layout='nturgb+d')(ntu)
    assert out['keypoint_dyna'].shape == (2, 20, 25, 3)
    np.testing.assert_array_equal(out['dynamic_joints'][1],
                                  expected_mask('nturgb+d'))
    assert 'keypoint_score_dyna' not in out


def test_transform_test_mode_and_replace():
    sample = coco_sample()
    # test mode, 'off': replace is a no-op, extra keys are copies
    off = RegionDecomposition(output='replace', replace_prob=1.0,
                              test_mode=True)(dict(sample))
    assert off['keypoint'] is sample['keypoint']
    copies = RegionDecomposition(test_mode=True)(dict(sample))
    np.testing.assert_array_equal(copies['keypoint_dyna'], sample['keypoint'])
    # seeded: deterministic per frame_dir
    t = RegionDecomposition(test_mode=True, test_perturb='seeded')
    a, b = t(dict(sample)), t(dict(sample))
    np.testing.assert_array_equal(a['keypoint_dyna'], b['keypoint_dyna'])
    assert not np.array_equal(a['keypoint_dyna'], sample['keypoint'])
    # training, replace with p = 1: keypoint becomes one of the variants
    np.random.seed(0)
    seen = set()
    for _ in range(8):
        out = RegionDecomposition(output='replace', replace_prob=1.0)(
            dict(sample))
        seen.add(out['decomposition_variant'])
        assert out['keypoint'].shape == sample['keypoint'].shape
        assert not np.array_equal(out['keypoint'], sample['keypoint'])
    assert seen == {'dyna', 'stat'}
    kept = RegionDecomposition(output='replace', replace_prob=0.0)(
        dict(sample))
    assert kept['decomposition_variant'] == 'base'
    with pytest.raises(ValueError, match='output'):
        RegionDecomposition(output='both')
    with pytest.raises(ValueError, match='perturb_cfg'):
        RegionDecomposition(perturb_cfg=dict(crop=0.5))


def stock_pipeline(decomposition, extra=(), corruption=None):
    pipeline = [dict(type='PreNormalize2D')]
    if corruption:
        pipeline.append(corruption)
    pipeline += [
        decomposition,
        dict(type='GenSkeFeat', dataset='coco', feats=['j']),
        dict(type='UniformSampleFrames', clip_len=8),
        dict(type='PoseDecode'),
        dict(type='FormatGCNInput', num_person=2),
        *extra,
        dict(type='PackActionInputs'),
    ]
    return Compose(pipeline)


def test_transform_in_stock_pipeline():
    np.random.seed(1)
    pipe = stock_pipeline(
        dict(type='RegionDecomposition', output='replace', replace_prob=1.0),
        corruption=dict(type='TemporalCorruption', ratio=0.5))
    packed = pipe(coco_sample(num_frames=30))
    inputs = packed['inputs']
    assert tuple(inputs.shape) == (1, 2, 8, 17, 3)
    assert packed['data_samples'].gt_label.item() == 3
    # missing frames are still exactly zero (identifiable) after replacing
    frames = inputs[0, 0]
    zero = (frames == 0).all(-1).all(-1)
    assert ((frames[..., 2] == 0).all(-1) == zero).all()

    # extra keys after FormatGCNInput: aligned with the model input
    pipe = Compose([
        dict(type='PreNormalize2D'),
        dict(type='GenSkeFeat', dataset='coco', feats=['j']),
        dict(type='UniformSampleFrames', clip_len=8, num_clips=2),
        dict(type='PoseDecode'),
        dict(type='FormatGCNInput', num_person=2),
        dict(type='RegionDecomposition', layout='coco'),
        dict(type='PackActionInputs',
             algorithm_keys=('keypoint_dyna', 'keypoint_stat')),
    ])
    packed = pipe(coco_sample(num_frames=30))
    sample = packed['data_samples']
    assert tuple(packed['inputs'].shape) == (2, 2, 8, 17, 3)
    assert sample.keypoint_dyna.shape == (2, 2, 8, 17, 3)
    # the padded second person stays zero; scores are not moved spatially
    assert np.all(sample.keypoint_stat[:, 1] == 0)
    np.testing.assert_array_equal(sample.keypoint_stat[..., 2],
                                  packed['inputs'].numpy()[..., 2])


# ----------------------------------------------------------------------------
# SpatialDecomposition + fusion
# ----------------------------------------------------------------------------
@pytest.mark.parametrize('layout,fusion', [('coco', 'CrossAttentionFusion'),
                                           ('nturgb+d', 'MLPFusion')])
def test_spatial_decomposition_module(layout, fusion):
    torch.manual_seed(0)
    V = NUM_JOINTS[layout]
    base = torch.from_numpy(
        np.stack([moving_sequence(layout, 12, channels=3, seed=s)
                  for s in range(2)]))  # (B=2, M=1, T, V, 3)
    base = torch.cat([base, torch.zeros_like(base)], 1)  # padded person
    module = MODELS.build(
        dict(type='SpatialDecomposition', in_channels=3, layout=layout,
             fusion=dict(type=fusion)))
    assert isinstance(module.fusion, (CrossAttentionFusion, MLPFusion))
    module.train()
    s_pred, s_dyna, s_stat = module(base)
    for out in (s_pred, s_dyna, s_stat):
        assert out.shape == (2, 2, 12, V, 3)
        assert torch.all(out[:, 1] == 0)  # padded person stays zero
    # untrained fusion is the identity on S_base (zero-initialised output)
    torch.testing.assert_close(s_pred, base)
    parts = module.decompose(base)
    dyn = parts['dynamic'][0, 0]
    assert dyn.shape == (V, )
    assert torch.equal(dyn, torch.from_numpy(expected_mask(layout)))
    assert not torch.allclose(s_dyna, base)
    # eval: perturbations off -> copies of S_base
    module.eval()
    _, s_dyna, s_stat = module(base)
    assert torch.equal(s_dyna, base) and torch.equal(s_stat, base)
    # eval, seeded: perturbed, the same on every call, and a sample's
    # variants do not depend on the batch it comes in
    module.test_perturb = 'seeded'
    _, s_dyna, s_stat = module(base)
    assert not torch.allclose(s_dyna, base)
    again = module(base)
    assert torch.equal(again[1], s_dyna) and torch.equal(again[2], s_stat)
    for i in range(2):
        _, dyna_i, stat_i = module(base[i:i + 1])
        assert torch.equal(dyna_i, s_dyna[i:i + 1])
        assert torch.equal(stat_i, s_stat[i:i + 1])
    _, dyna_rev, _ = module(base.flip(0))
    assert torch.equal(dyna_rev, s_dyna.flip(0))


def test_fusion_gradients_and_attention():
    torch.manual_seed(0)
    fusion = CrossAttentionFusion(in_channels=3, embed_dims=16, num_heads=2)
    with torch.no_grad():
        fusion.out.weight.normal_()  # leave the identity start
    variants = [torch.randn(2, 1, 5, 17, 3, requires_grad=True)
                for _ in range(3)]
    out = fusion(variants)
    assert out.shape == (2, 1, 5, 17, 3)
    out.pow(2).sum().backward()
    for v in variants:
        assert v.grad is not None and v.grad.abs().sum() > 0
    for name, p in fusion.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name
    with pytest.raises(ValueError, match='3 variants'):
        fusion(variants[:2])

    module = SpatialDecomposition(
        in_channels=3, fusion=dict(type='MLPFusion', hidden_channels=8))
    base = torch.randn(2, 1, 6, 17, 3, requires_grad=True)
    s_pred, _, _ = module(base)
    s_pred.sum().backward()
    assert base.grad is not None  # S_base keeps its own gradient path
    assert module.fusion.mlp[-1].weight.grad.abs().sum() > 0


def test_transform_respects_frame_valid():
    sample = coco_sample(num_frames=12)
    valid = np.ones(12, bool)
    valid[[2, 7]] = False
    sample['frame_valid'] = valid  # frames 2 and 7 missing but not zero
    out = RegionDecomposition(perturb_cfg=dict(mirror_prob=1.0))(sample)
    for key in ('keypoint_dyna', 'keypoint_stat'):
        np.testing.assert_array_equal(out[key][:, ~valid],
                                      sample['keypoint'][:, ~valid])
        assert not np.array_equal(out[key][:, valid],
                                  sample['keypoint'][:, valid])
    # formatted input with a sampled (num_clips, T) mask
    formatted = dict(keypoint=np.random.rand(2, 1, 6, 17, 3).astype(
        np.float32), frame_valid=np.array([[1, 1, 0, 1, 1, 1],
                                           [1, 1, 1, 1, 0, 1]], bool))
    out = RegionDecomposition()(dict(formatted))
    np.testing.assert_array_equal(out['keypoint_dyna'][0, :, 2],
                                  formatted['keypoint'][0, :, 2])
    np.testing.assert_array_equal(out['keypoint_dyna'][1, :, 4],
                                  formatted['keypoint'][1, :, 4])
