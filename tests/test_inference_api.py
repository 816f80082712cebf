"""finetec_mmaction.apis.inference: init_recognizer / inference_skeleton
(and MMAction2's own init_recognizer on our configs), init_restorer /
restore_skeleton, and their errors."""
import copy

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope

from mmaction.apis import init_recognizer as mmaction_init_recognizer
from mmaction.registry import DATASETS
from finetec_mmaction.apis.inference import (inference_pipeline,
                                             inference_skeleton,
                                             init_recognizer, init_restorer,
                                             restore_skeleton,
                                             config_test_pipeline)
from finetec_mmaction.core.fill import akima_fill, linear_fill
from finetec_mmaction.datasets.readers import PoseFileError, PoseSequence
from finetec_mmaction.utils import CheckpointMismatchError
from inference_utils import (FINETEC, PLUGPLAY, STGCNPP,
                             synthetic_test_sample, tiny_checkpoint,
                             zeroed_pickle)

IMG_SHAPE = (720, 1280)


@pytest.fixture(scope='module')
def checkpoints(synthetic_file, tmp_path_factory):
    root = tmp_path_factory.mktemp('ckpt')
    return dict(
        finetec=tiny_checkpoint(FINETEC, str(root / 'finetec.pth'),
                                synthetic_file),
        stgcnpp=tiny_checkpoint(STGCNPP, str(root / 'stgcnpp.pth'),
                                synthetic_file, seed=1))


def plugplay_options(synthetic_file):
    # no stage 1: the untrained ① (Akima) in front of a stock checkpoint
    return {'model.completion_checkpoint': None,
            'model.completion.bank': dict(ann_file=synthetic_file,
                                          split='train')}


def half_missing(ann, seed=0):
    num_frames = ann['keypoint'].shape[1]
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(np.arange(1, num_frames - 1), num_frames // 2,
                              replace=False))


def pose_results(ann, missing):
    """MMAction2's per-frame pose_results of a one-person annotation."""
    out = []
    for t in range(ann['keypoint'].shape[1]):
        if t in set(missing.tolist()):
            out.append(dict(keypoints=np.zeros((0, 17, 2), np.float32),
                            keypoint_scores=np.zeros((0, 17), np.float32)))
        else:
            out.append(dict(keypoints=ann['keypoint'][:, t].astype(
                np.float32), keypoint_scores=ann['keypoint_score'][:, t]))
    return out


def dataset_scores(model, config, ann_file, cfg_options=None):
    """Class scores of the test split of ``ann_file`` through the config's
    test dataset and ``model.test_step``: what tools/test.py computes."""
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    init_default_scope('mmaction')
    dataset = DATASETS.build(dict(cfg.test_dataloader.dataset,
                                  ann_file=ann_file))
    with torch.no_grad():
        out = model.test_step(pseudo_collate([dataset[0]]))
    return out[0].pred_score.numpy()


def test_inference_pipeline_replaces_the_corruption():
    cfg = Config.fromfile(PLUGPLAY)
    pipeline = config_test_pipeline(cfg)
    assert [t['type'] for t in pipeline][:2] == ['PreNormalize2D',
                                                 'TemporalCorruption']
    ours = inference_pipeline(pipeline)
    assert [t['type'] for t in ours][:3] == ['PreNormalize2D',
                                             'ZeroFillMissingFrames',
                                             'GenSkeFeat']
    assert ours[2:] == pipeline[2:]  # every other step kept
    clean = [t for t in pipeline if t['type'] != 'TemporalCorruption']
    assert inference_pipeline(clean) == ours


def test_demo_scores_equal_test_on_zeroed_pickle(checkpoints, synthetic_file,
                                                 tmp_path):
    """The bar, in process: the poses of a test video with half of its
    frames missing score like the test split of a pickle with those frames
    zeroed, tested with the data's own gaps (no simulated corruption)."""
    model = init_recognizer(FINETEC, checkpoints['finetec'], 'cpu')
    ann = synthetic_test_sample(synthetic_file)
    missing = half_missing(ann)
    result = inference_skeleton(model, pose_results(ann, missing), IMG_SHAPE,
                                kpt_thr=0)
    pickle_file = zeroed_pickle(str(tmp_path / 'zeroed.pkl'), ann, missing)
    expected = dataset_scores(model, FINETEC, pickle_file)
    np.testing.assert_allclose(result.pred_score.numpy(), expected,
                               atol=1e-5, rtol=0)
    # the same pickle under the simulated corruption at ratio 0 keeps the
    # zeroed frames at -1 (PreNormalize2D): the model sees other input
    simulated = copy.deepcopy(config_test_pipeline(Config.fromfile(PLUGPLAY)))
    simulated[1]['ratio'] = 0
    ratio0 = dataset_scores(model, FINETEC, pickle_file, {
        'test_dataloader.dataset.pipeline': simulated})
    assert np.abs(ratio0 - expected).max() > 1e-4
    # the fields: validity of the input, S_base in pixels
    assert result.frame_valid.shape == (1, ann['keypoint'].shape[1])
    assert (~result.frame_valid[0]).nonzero()[0].tolist() == missing.tolist()
    assert result.restored_mask.sum() == len(missing)
    restored = result.restored_keypoint
    np.testing.assert_array_equal(restored[0, result.frame_valid[0]],
                                  ann['keypoint'][0, result.frame_valid[0]])
    assert np.isfinite(restored).all()
    # pixels, near the truth (the bank holds other clips of the classes)
    err = np.linalg.norm(restored[0, missing] - ann['keypoint'][0, missing],
                         axis=-1).mean()
    assert err < 0.1 * np.ptp(ann['keypoint'][0, :, :, 1])


def test_every_kind_of_config_and_mmaction_init(checkpoints, synthetic_file):
    """Ours and MMAction2's init_recognizer on FineTec, stock ST-GCN++ and
    plug-and-play configs give the same scores."""
    ann = synthetic_test_sample(synthetic_file, 1)
    missing = half_missing(ann, seed=1)
    results = pose_results(ann, missing)
    # MMAction2's init builds the model before loading the checkpoint: it
    # reads the bank's source data (ours takes the bank from the checkpoint)
    cases = [(FINETEC, checkpoints['finetec'],
              {'model.completion.bank.ann_file': synthetic_file}),
             (STGCNPP, checkpoints['stgcnpp'],
              {'model.cls_head.num_classes': 4}),
             (PLUGPLAY, checkpoints['stgcnpp'],
              dict(plugplay_options(synthetic_file),
                   **{'model.cls_head.num_classes': 4}))]
    for config, ckpt, options in cases:
        model = init_recognizer(config, ckpt, 'cpu', options)
        ours = inference_skeleton(model, results, IMG_SHAPE, kpt_thr=0)
        assert ours.pred_score.shape == (4, )
        cfg = Config.fromfile(config)
        cfg.merge_from_dict(options)
        if cfg.model.get('completion'):
            # MMAction2 loads the checkpoint after the build: no stage 1
            cfg.model.completion_checkpoint = None
        stock = mmaction_init_recognizer(cfg, ckpt, device='cpu')
        stock.cfg = cfg
        theirs = inference_skeleton(stock, results, IMG_SHAPE, kpt_thr=0)
        np.testing.assert_allclose(ours.pred_score.numpy(),
                                   theirs.pred_score.numpy(), atol=1e-6)
        has_completion = getattr(model, 'completion', None) is not None
        assert np.isfinite(ours.restored_keypoint).all() == has_completion
        assert ours.restored_mask.sum() == (len(missing) if has_completion
                                            else 0)


def test_restored_pixels_are_the_fill_of_the_input(checkpoints,
                                                   synthetic_file):
    """The untrained ① (no retrieval) is Akima's fill in normalised
    coordinates; PreNormalize2D scales each axis, under which Akima's fill
    is unchanged, so the restored pixels must be Akima's fill of the
    pixels: the normalisation is undone exactly."""
    model = init_recognizer(PLUGPLAY, checkpoints['stgcnpp'], 'cpu', dict(
        plugplay_options(synthetic_file), **{'model.cls_head.num_classes':
                                             4}))
    ann = synthetic_test_sample(synthetic_file, 2)
    assert ann['keypoint'].shape[1] <= 48  # one window
    missing = half_missing(ann, seed=2)
    result = inference_skeleton(model, pose_results(ann, missing), IMG_SHAPE,
                                kpt_thr=0)
    valid = torch.ones(1, ann['keypoint'].shape[1], dtype=torch.bool)
    valid[0, missing] = False
    raw = torch.as_tensor(ann['keypoint'][0], dtype=torch.float64)[None]
    expected = akima_fill(raw * valid[..., None, None], valid)[0].numpy()
    np.testing.assert_allclose(result.restored_keypoint[0], expected,
                               atol=2e-3)  # pixels (float32 pipeline)


def test_restore_only_3d_in_metres(tmp_path):
    """init_restorer / restore_skeleton on 3D input: PreNormalize3D
    centres and rotates, and frames it would delete (zeros) are kept;
    a linear base fill commutes with that map, so the restored metres are
    the linear interpolation of the input."""
    rng = np.random.default_rng(0)
    num_frames, joints = 30, 20
    t = np.linspace(0, 1, num_frames)[:, None, None]
    pose = rng.normal(0, 0.3, (1, joints, 3))
    seq = np.asarray(pose + 0.2 * np.sin(3 * t + pose) + [0.5, 1.0, 3.0],
                     np.float32)  # (T, V, 3) metres
    gaps = [0, 5, 6, 7, 15, 29]  # including the first frame
    given = seq.copy()
    given[gaps] = np.nan
    bank = rng.normal(0, 0.3, (6, 32, joints, 3)).astype(np.float32)
    cfg = Config(dict(
        model=dict(completion=dict(
            type='ContextAwareCompletion', num_joints=joints, num_channels=3,
            clip_len=32, base_fill='linear', bank=bank)),
        test_pipeline=[
            dict(type='PreNormalize3D', zaxis=[0, 2], xaxis=[8, 4]),
            dict(type='TemporalCorruption', ratio=0.5, test_mode=True),
            dict(type='GenSkeFeat', dataset='nturgb+d', feats=['j']),
            dict(type='UniformSampleFrames', clip_len=32, num_clips=1,
                 test_mode=True),
            dict(type='PoseDecode'),
            dict(type='FormatGCNInput', num_person=1),
            dict(type='PackActionInputs')
        ]))
    restorer = init_restorer(cfg)
    result = restore_skeleton(restorer, PoseSequence.from_arrays(
        given[None], source='3d.npy'))
    valid = torch.ones(1, num_frames, dtype=torch.bool)
    valid[0, gaps] = False
    raw = torch.as_tensor(np.nan_to_num(given), dtype=torch.float64)[None]
    expected = linear_fill(raw, valid)[0].numpy()
    assert result.restored_mask[0].nonzero()[0].tolist() == gaps
    np.testing.assert_allclose(result.restored_keypoint[0], expected,
                               atol=1e-4)
    assert 'restored_keypoint_score' not in result
    with pytest.raises(PoseFileError, match='2D poses, but the model reads '
                       '3D'):
        restore_skeleton(restorer, PoseSequence.from_arrays(
            given[None, ..., :2]))


def test_restore_only_with_a_bank_file(synthetic_file, tmp_path):
    from finetec_mmaction.models.completion.bank import SkeletonBank
    bank = SkeletonBank.from_pickle(synthetic_file, 48)
    bank.save(str(tmp_path / 'bank.npz'))
    restorer = init_restorer(FINETEC, bank=str(tmp_path / 'bank.npz'))
    assert len(restorer.bank) == len(bank) and restorer.retrieval
    ann = synthetic_test_sample(synthetic_file, 3)
    missing = half_missing(ann, seed=3)
    result = restore_skeleton(restorer, pose_results(ann, missing),
                              IMG_SHAPE, kpt_thr=0)
    # every missing frame is restored (the synthetic clips have gaps of
    # their own besides those made here)
    assert (result.restored_mask == ~result.frame_valid).all()
    assert (~result.frame_valid[0, missing]).all()
    assert 'pred_score' not in result


def test_errors(checkpoints, synthetic_file, tmp_path):
    model = init_recognizer(FINETEC, checkpoints['finetec'], 'cpu')
    ann = synthetic_test_sample(synthetic_file)
    results = pose_results(ann, half_missing(ann))
    with pytest.raises(ValueError, match='image shape is unknown'):
        inference_skeleton(model, results)
    # another class count
    with pytest.raises(CheckpointMismatchError,
                       match='checkpoint has 4 classes, config has 12'):
        init_recognizer(FINETEC, checkpoints['finetec'], 'cpu',
                        {'model.cls_head.num_classes': 12})
    # another skeleton layout
    ntu = tiny_checkpoint(STGCNPP, str(tmp_path / 'ntu.pth'), synthetic_file,
                          backbone=dict(
                              Config.fromfile(STGCNPP).model.backbone,
                              graph_cfg=dict(layout='nturgb+d',
                                             mode='spatial')))
    with pytest.raises(CheckpointMismatchError, match='25-joint layout'):
        init_recognizer(STGCNPP, ntu, 'cpu',
                        {'model.cls_head.num_classes': 4})
    # a checkpoint that holds only ① where a recognizer is expected
    import torch as _torch
    state = _torch.load(checkpoints['finetec'], weights_only=False)
    stage1 = {k: v for k, v in state['state_dict'].items()
              if k.startswith('completion.')}
    _torch.save(dict(state_dict=stage1), str(tmp_path / 'stage1.pth'))
    with pytest.raises(CheckpointMismatchError, match='missing weights'):
        init_recognizer(FINETEC, str(tmp_path / 'stage1.pth'), 'cpu')
    # a keypoint layout the model does not read
    wide = [dict(keypoints=np.zeros((1, 133, 2)) + 5,
                 keypoint_scores=np.ones((1, 133)))] * 4
    with pytest.raises(PoseFileError, match='133 keypoints per person, but '
                       'the model reads 17'):
        inference_skeleton(model, wide, IMG_SHAPE)
    with pytest.raises(FileNotFoundError):
        init_recognizer(FINETEC, str(tmp_path / 'none.pth'), 'cpu')


def test_restore_in_windows_covers_long_inputs():
    """A sequence longer than clip_len: every frame comes from a window that
    holds its observed neighbours, so a linear base fill gives the linear
    interpolation of the whole sequence; a person frame that no window
    showing that person holds is not restored."""
    from mmaction.registry import MODELS

    from finetec_mmaction.apis.restoration import (restore_in_windows,
                                                   window_starts)
    init_default_scope('mmaction')
    gen = torch.Generator().manual_seed(0)
    completion = MODELS.build(dict(
        type='ContextAwareCompletion', num_joints=5, num_channels=2,
        clip_len=16, base_fill='linear',
        bank=torch.randn(4, 16, 5, 2, generator=gen).numpy())).eval()
    assert window_starts(50, 16).tolist() == [0, 8, 16, 24, 32, 34]
    x = torch.randn(2, 50, 5, 2, generator=gen).cumsum(1)
    valid = torch.ones(2, 50, dtype=torch.bool)
    valid[0, [1, 2, 3, 9, 17, 18, 30, 31, 32, 47, 48]] = False  # gaps <= 3
    valid[1, 10:] = False  # the second person leaves after frame 9
    x = x * valid[..., None, None]
    restored, holds = restore_in_windows(completion, x, valid)
    torch.testing.assert_close(restored[0], linear_fill(x[:1], valid[:1])[0])
    assert holds[0].all()
    # windows 0 and 8 see the second person: frames up to 23 are restored
    assert holds[1].nonzero()[:, 0].tolist() == list(range(24))
    short, held = restore_in_windows(completion, x[:, :10], valid[:, :10])
    assert short.shape == (2, 10, 5, 2) and held.all()
