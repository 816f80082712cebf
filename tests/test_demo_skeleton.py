"""demo/demo_skeleton.py end to end on a tiny checkpoint, and its errors."""
import importlib.util
import json
import os
import os.path as osp
import pickle

import numpy as np
import pytest

from e2e_utils import REPO, TOOLS, run
from inference_utils import (FINETEC, synthetic_test_sample, tiny_checkpoint,
                             write_mmpose_video, zeroed_pickle)

DEMO = osp.join(REPO, 'demo', 'demo_skeleton.py')


def load_demo():
    spec = importlib.util.spec_from_file_location('demo_skeleton', DEMO)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def video(synthetic_file, tmp_path_factory):
    """A tiny FineTec checkpoint and, for one test video, MMPose's JSON with
    half of its frames emptied and the pickle with those frames zeroed."""
    root = tmp_path_factory.mktemp('demo')
    ann = synthetic_test_sample(synthetic_file)
    num_frames = ann['keypoint'].shape[1]
    missing = np.sort(np.random.default_rng(0).choice(
        num_frames, num_frames // 2, replace=False))
    return dict(
        root=root,
        ann=ann,
        missing=missing,
        checkpoint=tiny_checkpoint(FINETEC, str(root / 'finetec.pth'),
                                   synthetic_file),
        json=write_mmpose_video(str(root / 'video.json'),
                                [(ann['keypoint'][0],
                                  ann['keypoint_score'][0])], missing),
        pickle=zeroed_pickle(str(root / 'zeroed.pkl'), ann, missing))


def test_demo_equals_test_tool_and_writes_outputs(video, tmp_path):
    """The bar: the demo on MMPose's JSON scores the video as tools/test.py
    does on the pickle with the same frames zeroed (the config tests the
    data's own gaps, no simulated corruption)."""
    out = tmp_path / 'out'
    log = run([DEMO, video['json'], '--config', FINETEC, '--checkpoint',
               video['checkpoint'], '--img-shape', '720', '1280',
               '--kpt-thr', '0', '--out-json', str(out / 'r.json'),
               '--out-restored', str(out / 'r.npy'), '--vis',
               str(out / 'r.gif')], cwd=str(tmp_path))
    run([osp.join(TOOLS, 'test.py'), FINETEC, video['checkpoint'],
         '--work-dir', str(tmp_path / 'test'), '--dump',
         str(tmp_path / 'pred.pkl'), '--cfg-options',
         f'test_dataloader.dataset.ann_file={video["pickle"]}'],
        cwd=str(tmp_path))
    with open(tmp_path / 'pred.pkl', 'rb') as f:
        expected = np.asarray(pickle.load(f)[0]['pred_score'])
    info = json.loads((out / 'r.json').read_text())
    np.testing.assert_allclose(info['scores'], expected, atol=1e-5, rtol=0)
    # what the user sees and gets
    num_frames = video['ann']['keypoint'].shape[1]
    own_gaps = ~np.any(video['ann']['keypoint'][0] != 0, axis=(-1, -2))
    missing = sorted(set(video['missing'].tolist()) |
                     set(np.flatnonzero(own_gaps).tolist()))
    assert info['missing_frames'] == missing
    assert info['num_restored'] == len(missing)
    assert f'restored: {len(missing)}' in log and 'top-5:' in log
    assert info['top5'][0]['score'] == max(info['scores'])
    assert info['top5'][0]['name'] == 'class %d' % info['pred_label']
    restored = np.load(out / 'r.npy')
    assert restored.shape == (1, num_frames, 17, 2)
    assert np.isfinite(restored).all()
    from PIL import Image
    with Image.open(out / 'r.gif') as gif:
        assert gif.n_frames == num_frames
    assert sorted(os.listdir(out)) == ['r.gif', 'r.json', 'r.npy']


def test_restore_only(video, synthetic_file, tmp_path):
    # ① of a FineTec checkpoint, no classifier
    load_demo().main([
        video['json'], '--restore-only', '--config', FINETEC,
        '--checkpoint', video['checkpoint'], '--img-shape', '720', '1280',
        '--kpt-thr', '0', '--out-restored', str(tmp_path / 'r.npz'),
        '--out-json', str(tmp_path / 'r.json'), '--vis',
        str(tmp_path / 'r.png')])
    info = json.loads((tmp_path / 'r.json').read_text())
    assert 'scores' not in info and info['num_restored'] > 0
    with np.load(tmp_path / 'r.npz') as data:
        assert data['keypoint'].shape[:2] == data['frame_valid'].shape
        assert data['restored_mask'].sum() == info['num_restored']
        assert 'keypoint_score' in data.files
    from PIL import Image
    with Image.open(tmp_path / 'r.png') as png:
        assert png.width > 4 * png.height  # a strip


def test_restore_only_with_a_bank_file_in_process(video, synthetic_file,
                                                  tmp_path, capsys):
    from finetec_mmaction.models.completion.bank import SkeletonBank
    SkeletonBank.from_pickle(synthetic_file, 48).save(str(tmp_path / 'b.npz'))
    demo = load_demo()
    demo.main([video['json'], '--restore-only', '--config', FINETEC,
               '--bank', str(tmp_path / 'b.npz'), '--img-shape', '720',
               '1280', '--out-restored', str(tmp_path / 'r.npy')])
    assert 'restored:' in capsys.readouterr().out
    assert np.load(tmp_path / 'r.npy').shape[1] == \
        video['ann']['keypoint'].shape[1]


def test_errors(video, tmp_path, monkeypatch):
    demo = load_demo()
    base = [video['json'], '--config', FINETEC, '--checkpoint',
            video['checkpoint']]
    # an output that cannot be written: stop before any work, write nothing
    blocker = tmp_path / 'file'
    blocker.write_text('')
    good = tmp_path / 'out' / 'r.json'
    with pytest.raises(SystemExit, match='cannot write'):
        demo.main(base + ['--img-shape', '720', '1280', '--out-json',
                          str(good), '--out-restored',
                          str(blocker / 'r.npy')])
    assert not good.exists()
    with pytest.raises(SystemExit, match='it is a folder'):
        demo.main(base + ['--out-json', str(tmp_path)])
    with pytest.raises(SystemExit, match='must be one of'):
        demo.main(base + ['--vis', str(tmp_path / 'r.jpg')])
    from matplotlib import animation
    if not animation.writers.is_available('ffmpeg'):
        with pytest.raises(SystemExit, match='MP4 needs ffmpeg'):
            demo.main(base + ['--vis', str(tmp_path / 'r.mp4')])
    # image shape unknown for pixel input
    with pytest.raises(ValueError, match='image shape is unknown'):
        demo.main(base)
    # an interrupted write leaves no file, and no temporary one
    def fail(*args, **kwargs):
        raise KeyboardInterrupt('interrupted')

    monkeypatch.setattr(np, 'save', fail)
    target = tmp_path / 'write' / 'r.npy'
    with pytest.raises(KeyboardInterrupt):
        demo.main(base + ['--img-shape', '720', '1280', '--out-restored',
                          str(target)])
    assert os.listdir(target.parent) == []


def test_cli_errors_are_brief(video, tmp_path):
    bad = tmp_path / 'bad.json'
    bad.write_text('[{"frame_id": 0, "instances": [')
    log = run([DEMO, str(bad), '--config', FINETEC, '--checkpoint',
               video['checkpoint']], cwd=str(tmp_path), expect_ok=False)
    assert f'error: {bad}: not valid JSON' in log
    assert 'Traceback' not in log


def test_argument_errors(video, capsys):
    demo = load_demo()
    with pytest.raises(SystemExit):
        demo.main([video['json'], '--config', FINETEC])
    assert '--checkpoint is required' in capsys.readouterr().err
    with pytest.raises(SystemExit):
        demo.main([video['json'], '--config', FINETEC, '--checkpoint',
                   video['checkpoint'], '--bank', 'b.npz'])
    assert '--bank applies to --restore-only' in capsys.readouterr().err
