"""Readers of users' pose files, the tracker and ZeroFillMissingFrames."""
import json
import os
import pickle

import numpy as np
import pytest
from mmengine.dataset import Compose

from finetec_mmaction.core import track_people
from finetec_mmaction.datasets.label_maps import (label_names,
                                                  load_label_map)
from finetec_mmaction.datasets.readers import (NoPersonError, PoseFileError,
                                               PoseSequence,
                                               load_mmpose_folder,
                                               load_mmpose_video,
                                               load_numpy_poses,
                                               load_pose_pickle_sample,
                                               read_poses)
from inference_utils import mmpose_instance, write_mmpose_video


def walker(num_frames=20, start=100.0, speed=10.0, height=1.0, seed=0):
    """A 17-joint 2D 'person' walking along x: keypoints (T, 17, 2)."""
    rng = np.random.default_rng(seed)
    offsets = rng.uniform(-20, 20, (17, 2)) * [1, 3 * height]
    t = np.arange(num_frames)[:, None, None]
    centre = np.array([start, 300.0])
    kp = centre + offsets + t * np.array([speed, 0.0])
    kp[..., 1] += 3 * np.sin(t[..., 0] / 2)  # some vertical motion
    return kp.astype(np.float32), np.full((num_frames, 17), 0.9, np.float32)


# ------------------------------------------------------------ MMPose JSON
def test_mmpose_video_json_with_empty_frames(tmp_path):
    kp, sc = walker()
    path = write_mmpose_video(str(tmp_path / 'v.json'), [(kp, sc)],
                              missing=[0, 5, 6, 19])
    frames = load_mmpose_video(path)
    assert len(frames) == 20
    assert frames[5]['keypoints'].shape == (0, 0, 2)
    assert frames[1]['keypoints'].shape == (1, 17, 2)
    assert frames[1]['bboxes'].shape == (1, 4)  # [[x1, y1, x2, y2]]
    np.testing.assert_allclose(frames[1]['keypoints'][0], kp[1])
    seq = read_poses(path, num_person=2, kpt_thr=0.3)
    assert seq.num_person == 1 and seq.num_frames == 20
    assert seq.missing_frames.tolist() == [0, 5, 6, 19]
    assert not seq.keypoint[0, [0, 5, 6, 19]].any()  # zero where missing
    np.testing.assert_allclose(seq.keypoint[0, 1], kp[1])


def test_mmpose_video_json_skipped_frame_id_is_missing(tmp_path):
    kp, sc = walker(4)
    frames = [dict(frame_id=t, instances=[mmpose_instance(kp[t], sc[t])])
              for t in (0, 1, 3)]  # no entry for frame 2
    path = tmp_path / 'v.json'
    path.write_text(json.dumps(frames))
    seq = read_poses(str(path))
    assert seq.num_frames == 4 and seq.missing_frames.tolist() == [2]


def test_low_score_frames_are_missing(tmp_path):
    kp, sc = walker(6)
    sc[2] = 0.1  # mean score below the threshold
    path = write_mmpose_video(str(tmp_path / 'v.json'), [(kp, sc)])
    assert read_poses(path, kpt_thr=0.3).missing_frames.tolist() == [2]
    assert read_poses(path, kpt_thr=0.05).missing_frames.tolist() == []


@pytest.mark.parametrize('content, message', [
    ('[{"frame_id": 0, "instances": [', 'not valid JSON'),
    ('{"frames": []}', 'expected MMPose\'s video predictions'),
    ('[{"frame_id": 0}]', 'entry 0: expected'),
    ('[{"frame_id": 0, "instances": [{"keypoints": [[1, 2]]}]}]',
     'needs "keypoints" and "keypoint_scores"'),
    ('[{"frame_id": 0, "instances": [{"keypoints": [[1, 2]], '
     '"keypoint_scores": [0.5, 0.5]}]}]', '1 keypoints but'),
    ('[{"frame_id": "a", "instances": []}]', '"frame_id" must be an int'),
    ('[{"frame_id": 0, "instances": []}, {"frame_id": 0, '
     '"instances": []}]', 'appears twice'),
    ('[{"keypoints": [[1, 2]], "keypoint_scores": [1]}]', 'one image'),
])
def test_malformed_json_is_named(tmp_path, content, message):
    path = tmp_path / 'bad.json'
    path.write_text(content)
    with pytest.raises(PoseFileError, match=message) as err:
        read_poses(str(path))
    assert str(path) in str(err.value)


def test_frame_with_another_keypoint_count(tmp_path):
    kp, sc = walker(5)
    path = write_mmpose_video(str(tmp_path / 'v.json'), [(kp, sc)])
    frames = json.loads(open(path).read())
    inst = frames[3]['instances'][0]
    inst['keypoints'] = inst['keypoints'][:13]
    inst['keypoint_scores'] = inst['keypoint_scores'][:13]
    open(path, 'w').write(json.dumps(frames))
    with pytest.raises(PoseFileError, match='frame 3 has 13 keypoints') as e:
        read_poses(path)
    assert path in str(e.value)


def test_no_person_in_any_frame(tmp_path):
    kp, sc = walker(5)
    empty = write_mmpose_video(str(tmp_path / 'e.json'), [(kp, sc)],
                               missing=range(5))
    with pytest.raises(NoPersonError, match='no person in any of its 5'):
        read_poses(empty)
    low = write_mmpose_video(str(tmp_path / 'l.json'), [(kp, sc * 0.1)])
    with pytest.raises(NoPersonError, match='threshold'):
        read_poses(low, kpt_thr=0.3)


def test_mmpose_folder_of_image_files(tmp_path):
    kp, sc = walker(12)
    folder = tmp_path / 'frames'
    folder.mkdir()
    for t in range(12):  # names that sort wrongly as text
        instances = [] if t == 10 else [mmpose_instance(kp[t], sc[t])]
        (folder / f'frame_{t}.json').write_text(json.dumps(instances))
    (folder / 'notes.txt').write_text('ignored')
    frames = load_mmpose_folder(str(folder))
    np.testing.assert_allclose(frames[2]['keypoints'][0], kp[2])
    seq = read_poses(str(folder))
    assert seq.missing_frames.tolist() == [10]
    np.testing.assert_allclose(seq.keypoint[0, 11], kp[11])
    os.remove(folder / 'frame_3.json')
    (folder / 'frame_3.json').write_text('{"instances": [')
    with pytest.raises(PoseFileError, match='frame_3.json: not valid JSON'):
        read_poses(str(folder))


# ------------------------------------------------------------------ NumPy
def test_numpy_with_nan_and_zero_rows(tmp_path):
    kp, _ = walker(10)
    arr = kp.copy()
    arr[3] = np.nan
    arr[4, 5] = np.nan  # one NaN joint: the frame is missing as a whole
    arr[7] = 0
    np.save(tmp_path / 'p.npy', arr)
    seq = read_poses(str(tmp_path / 'p.npy'), coord_dims=2)
    assert seq.keypoint.shape == (1, 10, 17, 2)
    assert seq.missing_frames.tolist() == [3, 4, 7]
    assert np.isfinite(seq.keypoint).all()
    assert (seq.keypoint_score[0, 0] == 1).all()  # no scores: confident
    # (M, T, V, 3) = (x, y, score) for a 2D model, in an .npz
    two = np.stack([np.concatenate([kp, np.full((10, 17, 1), .8)], -1)] * 2)
    two[1, :5] = np.nan
    np.savez(tmp_path / 'p.npz', keypoint=two, img_shape=np.array([480,
                                                                   640]))
    seq = load_numpy_poses(str(tmp_path / 'p.npz'), coord_dims=2)
    assert seq.valid.sum(1).tolist() == [10, 5]
    assert seq.img_shape == (480, 640)
    np.testing.assert_allclose(seq.keypoint_score[0, 0], 0.8)
    # 3D: (T, V, 3) coordinates, no scores
    np.save(tmp_path / 'p3.npy', np.random.default_rng(0).normal(
        size=(6, 20, 3)))
    seq = read_poses(str(tmp_path / 'p3.npy'), coord_dims=3)
    assert seq.keypoint.shape == (1, 6, 20, 3) and seq.keypoint_score is None


def test_numpy_errors(tmp_path):
    np.save(tmp_path / 'bad.npy', np.zeros((4, 17)))
    with pytest.raises(PoseFileError, match=r'\(T, V, C\) or \(M, T, V, C'):
        read_poses(str(tmp_path / 'bad.npy'))
    np.save(tmp_path / 'c4.npy', np.ones((4, 17, 4)))
    with pytest.raises(PoseFileError, match='4 channels per joint'):
        read_poses(str(tmp_path / 'c4.npy'), coord_dims=2)
    np.save(tmp_path / 'nan.npy', np.full((4, 17, 2), np.nan))
    with pytest.raises(NoPersonError):
        read_poses(str(tmp_path / 'nan.npy'))
    (tmp_path / 'trunc.npy').write_bytes(b'\x93NUMPY garbage')
    with pytest.raises(PoseFileError, match='not a readable NumPy file'):
        read_poses(str(tmp_path / 'trunc.npy'))


# ---------------------------------------------------------------- pickle
def test_pose_pickle_sample(synthetic_file, tmp_path):
    with open(synthetic_file, 'rb') as f:
        data = pickle.load(f)
    name = data['split']['test'][1]
    ann = next(a for a in data['annotations'] if a['frame_dir'] == name)
    seq = load_pose_pickle_sample(synthetic_file, name, kpt_thr=0)
    assert seq.img_shape == tuple(ann['img_shape'])
    np.testing.assert_allclose(seq.keypoint, ann['keypoint'])
    assert seq.valid.all()
    with pytest.raises(PoseFileError, match="no sample with frame_dir 'x'"):
        load_pose_pickle_sample(synthetic_file, 'x')
    bad = dict(ann, keypoint=ann['keypoint'][..., :1])
    with open(tmp_path / 'bad.pkl', 'wb') as f:
        pickle.dump([bad], f)
    with pytest.raises(PoseFileError, match=f"frame_dir '{name}'.*shape"):
        load_pose_pickle_sample(str(tmp_path / 'bad.pkl'), name)
    with pytest.raises(ValueError, match='--frame-dir'):
        read_poses(synthetic_file)


# --------------------------------------------------------------- tracker
def test_two_people_crossing_keep_their_tracks(tmp_path):
    """Two people walk past each other; the detector lists them in one
    order in the first half and in the other order after."""
    num_frames = 40
    a_kp, a_sc = walker(num_frames, start=100, speed=8, height=1.0, seed=1)
    b_kp, b_sc = walker(num_frames, start=412, speed=-8, height=1.3,
                        seed=2)
    frames = []
    for t in range(num_frames):
        people = [(a_kp[t], a_sc[t]), (b_kp[t], b_sc[t])]
        if t >= num_frames // 2:
            people = people[::-1]
        frames.append(dict(frame_id=t, instances=[
            mmpose_instance(kp, sc) for kp, sc in people]))
    path = tmp_path / 'cross.json'
    path.write_text(json.dumps(frames))
    seq = read_poses(str(path), num_person=2)
    assert seq.valid.all()
    # each track follows one person all the way, whatever the order
    first = 0 if np.allclose(seq.keypoint[0, 0], a_kp[0]) else 1
    np.testing.assert_allclose(seq.keypoint[first], a_kp, atol=1e-4)
    np.testing.assert_allclose(seq.keypoint[1 - first], b_kp, atol=1e-4)
    # "the i-th detection of each frame" would have swapped them
    naive = np.stack([np.asarray(f['instances'][0]['keypoints'])
                      for f in frames])
    assert not np.allclose(naive, a_kp, atol=1)


def test_tracker_keeps_most_persistent_people():
    kp_a, _ = walker(10, start=100)
    kp_b, _ = walker(10, start=600)
    kp_c, _ = walker(10, start=1100)
    frames = []
    for t in range(10):
        people = [kp_a[t]] + ([kp_b[t]] if t % 2 else []) + \
            ([kp_c[t]] if t < 3 else [])
        frames.append(np.stack(people[::-1]))  # detection order varies
    tracks = track_people(frames, num_person=2)
    assert tracks.shape == (2, 10)
    assert (tracks[0] >= 0).all()  # the person seen in every frame first
    assert ((tracks[1] >= 0) == (np.arange(10) % 2 == 1)).all()
    # a person unseen for longer than max_gap comes back as a new track
    gap = [kp_a[t][None] if t < 3 or t > 8 else np.zeros((0, 17, 2))
           for t in range(10)]
    assert track_people(gap, num_person=2, max_gap=2).shape == (2, 10)
    assert track_people(gap, num_person=2, max_gap=10).shape == (1, 10)


def test_pose_results_of_mmaction(tmp_path):
    """MMAction2's pose_results (arrays, no boxes) work as well."""
    kp, sc = walker(8)
    results = [dict(keypoints=kp[t][None], keypoint_scores=sc[t][None])
               for t in range(8)]
    results[4] = dict(keypoints=np.zeros((0, 17, 2)),
                      keypoint_scores=np.zeros((0, 17)))
    seq = PoseSequence.from_pose_results(results, num_person=1)
    assert seq.missing_frames.tolist() == [4]
    with pytest.raises(PoseFileError, match='frame 2: keypoint_scores'):
        PoseSequence.from_pose_results(
            results[:2] + [dict(keypoints=kp[2][None],
                                keypoint_scores=sc[2][None, :5])])


# ----------------------------------------------- ZeroFillMissingFrames
def test_zero_fill_after_normalisation():
    kp, sc = walker(6)
    seq = PoseSequence.from_arrays(kp[None], sc[None])
    seq.valid[0, 2] = False
    ann = seq.to_annotation((480, 640))
    # the frame's place is held by a neighbour, not zeros (PreNormalize3D)
    np.testing.assert_allclose(ann['keypoint'][0, 2], kp[1])
    pipeline = Compose([dict(type='PreNormalize2D'),
                        dict(type='ZeroFillMissingFrames')])
    out = pipeline(ann)
    assert not out['keypoint'][0, 2].any()
    assert not out['keypoint_score'][0, 2].any()
    assert out['keypoint'][0, 1].any()
    assert out['frame_valid'].tolist() == [True, True, False, True, True,
                                           True]
    # without frame_valid (a pickle's zeroed frames): found by their scores
    raw = dict(keypoint=np.where(np.arange(6)[None, :, None, None] == 4, 0,
                                 kp[None]).astype(np.float32),
               keypoint_score=np.where(np.arange(6)[None, :, None] == 4, 0,
                                       sc[None]).astype(np.float32),
               img_shape=(480, 640))
    out = pipeline(raw)
    assert not out['keypoint'][0, 4].any()  # PreNormalize2D made it -1
    assert out['frame_valid'].tolist() == [True] * 4 + [False, True]


def test_label_maps(tmp_path):
    names = label_names(15, ann_file='data/penn_action/penn_action_coco17'
                        '_2d.pkl')
    assert names[0] == 'baseball_pitch' and names[14] == 'tennis_serve'
    assert label_names(10, ann_file='x/utkinect_3d.pkl')[9] == 'clapHands'
    assert label_names(3, ann_file='gym288.pkl') == ['class 0', 'class 1',
                                                     'class 2']
    (tmp_path / 'm.txt').write_text('0 run\n1 jump\n\n')
    assert load_label_map(str(tmp_path / 'm.txt')) == ['run', 'jump']
    with pytest.raises(ValueError, match='names 2 classes but the model has '
                       '4'):
        label_names(4, str(tmp_path / 'm.txt'))
