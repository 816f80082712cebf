"""Tests of safe annotation loading, annotation checks, SafePoseDataset and
the synthetic Gym288-format generator."""
import _codecs
import copy
import importlib.util
import os
import os.path as osp
import pickle
import warnings
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest

import finetec_mmaction  # noqa: F401  (compat fixes + registration)
from mmengine.registry import init_default_scope

from finetec_mmaction.datasets import (AnnotationFormatError,
                                       InvalidSampleError, PickleLoadError,
                                       SafePoseDataset, UnsafePickleError,
                                       make_synthetic_gym, safe_load_pickle,
                                       safe_loads_pickle, select_split,
                                       synthetic_class_spec,
                                       validate_annotations,
                                       write_synthetic_gym)

REPO_ROOT = Path(__file__).resolve().parents[1]
PENN_PKL = (REPO_ROOT / '..' / 'shared' / 'data' / 'penn_action' /
            'penn_action_coco17_2d.pkl')

GCN_PIPELINE_2D = [
    dict(type='PreNormalize2D'),
    dict(type='GenSkeFeat', dataset='coco', feats=['j']),
    dict(type='UniformSampleFrames', clip_len=16),
    dict(type='PoseDecode'),
    dict(type='FormatGCNInput', num_person=1),
    dict(type='PackActionInputs')
]


@pytest.fixture(autouse=True, scope='module')
def _mmaction_scope():
    # Pipelines name stock transforms ('PreNormalize2D', ...) without scope.
    init_default_scope('mmaction')


@pytest.fixture(scope='module')
def small_gym():
    """3 classes x (2 train + 1 test): annotations 0-5 train, 6-8 test."""
    return make_synthetic_gym(
        num_classes=3, train_per_class=2, test_per_class=1, min_frames=12,
        max_frames=20, seed=1)


def _dump(path, obj, protocol=4):
    with open(path, 'wb') as f:
        pickle.dump(obj, f, protocol=protocol)
    return str(path)


# --------------------------------------------------------------------------
# Restricted pickle loading
# --------------------------------------------------------------------------
class _RunsCode:

    def __init__(self, func, *args):
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


def test_refuses_pickle_that_would_run_code(tmp_path):
    marker = tmp_path / 'pwned'
    payload = {'annotations': [_RunsCode(os.system, f'touch {marker}')]}
    path = _dump(tmp_path / 'evil.pkl', payload)
    with pytest.raises(UnsafePickleError) as info:
        safe_load_pickle(path)
    msg = str(info.value)
    assert 'evil.pkl' in msg and 'system' in msg  # posix.system on Linux
    assert isinstance(info.value, pickle.UnpicklingError)
    assert not marker.exists(), 'the refused command must not have run'

    # Sanity check of the test itself: plain pickle would have run it.
    with open(path, 'rb') as f:
        pickle.load(f)
    assert marker.exists()


@pytest.mark.parametrize('func,args', [(eval, ('1+1', )),
                                       (getattr, ('x', 'upper')),
                                       (Path, ('x', ))])
def test_refuses_other_globals(func, args):
    data = pickle.dumps([_RunsCode(func, *args)], protocol=2)
    with pytest.raises(UnsafePickleError, match='mem.pkl'):
        safe_loads_pickle(data, source='mem.pkl')


def test_refuses_non_latin1_codecs():
    # _codecs.encode is admitted only as protocols 0-2 use it (latin1).
    data = pickle.dumps(_RunsCode(_codecs.encode, 'a', 'rot13'), protocol=2)
    with pytest.raises(UnsafePickleError, match='codec.pkl.*rot13'):
        safe_loads_pickle(data, source='codec.pkl')


def _numpy_payload():
    return {
        'f16': np.arange(12, dtype=np.float16).reshape(1, 2, 3, 2),
        'f32': np.linspace(0, 1, 5, dtype=np.float32),
        'i64': np.arange(4, dtype=np.int64),
        'fortran': np.asfortranarray(np.ones((3, 2))),
        'scalars': (np.int64(7), np.float32(1.5), np.bool_(True)),
        'ordered': OrderedDict(a=1, b=[1.0, 'x', None]),
        'set': {1, 2},
        'shape': (720, 1280),
        'bytes': b'\x00\xffraw',
    }


def _assert_payload_equal(got, want):
    assert got.keys() == want.keys()
    for key, value in want.items():
        if isinstance(value, np.ndarray):
            assert got[key].dtype == value.dtype
            np.testing.assert_array_equal(got[key], value)
        else:
            assert got[key] == value
            assert type(got[key]) is type(value)


@pytest.mark.parametrize('layout', ['numpy.core', 'numpy._core'])
def test_loads_both_numpy_layouts(tmp_path, layout):
    """numpy 1 writes ``numpy.core.*``, numpy 2 ``numpy._core.*``; protocol
    2 (what ``mmengine.dump`` writes) names globals as text, so either
    layout can be produced from the installed numpy."""
    want = _numpy_payload()
    raw = pickle.dumps(want, protocol=2)
    raw = raw.replace(b'numpy._core.', b'numpy.core.')
    if layout == 'numpy._core':
        raw = raw.replace(b'numpy.core.', b'numpy._core.')
    assert f'{layout}.multiarray'.encode() in raw
    path = tmp_path / 'arrays.pkl'
    path.write_bytes(raw)
    with warnings.catch_warnings():
        warnings.simplefilter('error', DeprecationWarning)
        got = safe_load_pickle(str(path))
    _assert_payload_equal(got, want)


@pytest.mark.parametrize('protocol', [3, 4, 5])
def test_loads_native_protocols(tmp_path, protocol):
    want = _numpy_payload()
    got = safe_load_pickle(
        _dump(tmp_path / f'p{protocol}.pkl', want, protocol=protocol))
    _assert_payload_equal(got, want)


def test_missing_file(tmp_path):
    path = str(tmp_path / 'nowhere' / 'ann.pkl')
    with pytest.raises(FileNotFoundError, match='nowhere'):
        safe_load_pickle(path)


@pytest.mark.parametrize('content', ['truncated', 'empty', 'garbage'])
def test_truncated_or_corrupt_file(tmp_path, small_gym, content):
    raw = pickle.dumps(small_gym, protocol=4)
    raw = dict(
        truncated=raw[:len(raw) // 2], empty=b'',
        garbage=b'this is not a pickle at all\n' * 3)[content]
    path = tmp_path / 'broken_ann.pkl'
    path.write_bytes(raw)
    with pytest.raises(PickleLoadError, match='broken_ann.pkl'):
        safe_load_pickle(str(path))
    # SafePoseDataset surfaces the same error.
    with pytest.raises(PickleLoadError, match='broken_ann.pkl'):
        SafePoseDataset(str(path), pipeline=[], split='train')


# --------------------------------------------------------------------------
# Annotation checks
# --------------------------------------------------------------------------
def _set(key, value):

    def edit(anno):
        anno[key] = value(anno) if callable(value) else value

    return edit


def _delete(key):

    def edit(anno):
        del anno[key]

    return edit


def _poke(key, value, where=(0, 3, 5, 0)):

    def edit(anno):
        anno[key] = anno[key].copy()
        anno[key][where[:anno[key].ndim]] = value

    return edit


def _joints(num_joints):

    def edit(anno):
        num_frames = anno['total_frames']
        anno['keypoint'] = np.zeros((1, num_frames, num_joints, 2),
                                    np.float16)
        anno['keypoint_score'] = np.ones((1, num_frames, num_joints),
                                         np.float16)
        for key in ('kp_w_gt', 'kp_wo_gt'):
            anno[key] = np.zeros((num_frames, num_joints, 3), np.float32)

    return edit


def _empty(num_person, num_frames):

    def edit(anno):
        anno['keypoint'] = np.zeros((num_person, num_frames, 17, 2),
                                    np.float16)
        anno['keypoint_score'] = np.zeros((num_person, num_frames, 17),
                                          np.float16)
        anno['total_frames'] = num_frames
        anno.pop('kp_w_gt')
        anno.pop('kp_wo_gt')

    return edit


BAD_SAMPLES = {
    'missing_frame_dir': (_delete('frame_dir'), 'missing "frame_dir"'),
    'missing_label': (_delete('label'), 'missing key(s) "label"'),
    'missing_keypoint': (_delete('keypoint'), '"keypoint"'),
    'missing_total_frames': (_delete('total_frames'), '"total_frames"'),
    'keypoint_not_array': (_set('keypoint', lambda a: a['keypoint'].tolist()),
                           'must be a numpy array'),
    'keypoint_3d_array': (_set('keypoint', lambda a: a['keypoint'][0]),
                          'must have shape (M, T, V, C)'),
    'keypoint_4_channels': (_set(
        'keypoint', lambda a: np.concatenate([a['keypoint']] * 2, -1)),
                            'must have shape (M, T, V, C)'),
    'score_wrong_shape': (_set('keypoint_score',
                               lambda a: a['keypoint_score'][..., :-1]),
                          '"keypoint_score" shape'),
    'wrong_joint_count': (_joints(25), 'wrong joint count'),
    'total_frames_mismatch': (_set('total_frames',
                                   lambda a: a['total_frames'] + 1),
                              'does not match T='),
    'empty_sequence': (_empty(1, 0), 'empty sequence'),
    'no_person': (_empty(0, 10), 'empty sequence'),
    'nan_keypoint': (_poke('keypoint', np.nan), '(NaN) in "keypoint"'),
    'inf_keypoint': (_poke('keypoint', np.inf), '(inf) in "keypoint"'),
    'nan_score': (_poke('keypoint_score', np.nan),
                  '(NaN) in "keypoint_score"'),
    'label_too_large': (_set('label', 3), 'label 3 out of range [0, 3)'),
    'label_negative': (_set('label', -1), 'label -1 out of range'),
    'label_not_int': (_set('label', 1.0), 'label must be an int'),
    'kp_w_gt_wrong_length': (_set('kp_w_gt', lambda a: a['kp_w_gt'][1:]),
                             '"kp_w_gt" shape'),
}


@pytest.mark.filterwarnings('ignore:.*match no annotation')
@pytest.mark.parametrize('case', sorted(BAD_SAMPLES))
def test_bad_sample_is_named(tmp_path, small_gym, case):
    edit, problem = BAD_SAMPLES[case]
    data = copy.deepcopy(small_gym)
    index = 4  # a training sample that is not the first one
    frame_dir = data['annotations'][index]['frame_dir']
    edit(data['annotations'][index])
    path = _dump(tmp_path / f'bad_{case}.pkl', data)

    with pytest.raises(InvalidSampleError) as info:
        SafePoseDataset(path, pipeline=[], split='train', num_classes=3)
    msg = str(info.value)
    assert f'bad_{case}.pkl' in msg
    assert f'sample {index}' in msg
    assert problem in msg
    if case != 'missing_frame_dir':
        assert frame_dir in msg
    assert info.value.index == index
    assert isinstance(info.value, ValueError)


def test_sample_index_points_into_the_file(tmp_path, small_gym):
    # After split selection the index is still the one in the file.
    data = copy.deepcopy(small_gym)
    data['annotations'][7]['total_frames'] = 0
    path = _dump(tmp_path / 'ann.pkl', data)
    SafePoseDataset(path, pipeline=[], split='train')  # 7 is a test sample
    with pytest.raises(InvalidSampleError, match='sample 7 '):
        SafePoseDataset(path, pipeline=[], split='test')


def test_negative_label_without_num_classes(small_gym):
    annos = copy.deepcopy(small_gym['annotations'])
    annos[1]['label'] = -2
    with pytest.raises(InvalidSampleError, match='label -2 out of range'):
        validate_annotations(annos, 'ann.pkl')


@pytest.mark.filterwarnings('ignore:.*match no annotation')
def test_skip_invalid_drops_and_counts(tmp_path, small_gym):
    data = copy.deepcopy(small_gym)
    annos = data['annotations']
    BAD_SAMPLES['nan_keypoint'][0](annos[0])  # the first sample is bad
    BAD_SAMPLES['wrong_joint_count'][0](annos[3])
    BAD_SAMPLES['missing_frame_dir'][0](annos[5])
    path = _dump(tmp_path / 'ann.pkl', data)

    dataset = SafePoseDataset(
        path, pipeline=[], split='train', num_classes=3, skip_invalid=True)
    assert len(dataset) == 6 - 3
    skipped = dataset.skipped_samples
    assert [s[0] for s in skipped] == [0, 3, 5]
    assert skipped[0][1] == small_gym['annotations'][0]['frame_dir']
    assert skipped[2][1] is None
    assert 'NaN' in skipped[0][2] and 'joint count' in skipped[1][2]

    # The function itself: same objects, in order, plus (index, id, reason).
    valid, skipped = validate_annotations(
        data, path, num_classes=3, skip_invalid=True)
    assert len(valid) == 9 - 3 and len(skipped) == 3
    assert valid[0] is annos[1]
    with pytest.raises(InvalidSampleError):
        validate_annotations(data, path, skip_invalid=False)


def test_joint_count_follows_first_valid_sample(small_gym):
    annos = copy.deepcopy(small_gym['annotations'])
    BAD_SAMPLES['wrong_joint_count'][0](annos[1])
    with pytest.raises(InvalidSampleError, match='sample 1 .*wrong joint'):
        validate_annotations(annos, 'ann.pkl')


@pytest.mark.filterwarnings('ignore:.*match no annotation')
def test_duplicate_frame_dir_is_named(tmp_path, small_gym):
    """Test masks and the corruption digest are keyed on frame_dir: a
    second sample with the same one is refused, naming both."""
    data = copy.deepcopy(small_gym)
    first = data['annotations'][1]['frame_dir']
    data['annotations'][4]['frame_dir'] = first  # both in the train split
    path = _dump(tmp_path / 'dup.pkl', data)
    with pytest.raises(InvalidSampleError) as info:
        SafePoseDataset(path, pipeline=[], split='train')
    msg = str(info.value)
    assert 'dup.pkl' in msg and f"sample 4 (frame_dir '{first}')" in msg
    assert 'duplicate frame_dir: sample 1 has the same one' in msg
    # skip_invalid keeps the first and drops the second
    dataset = SafePoseDataset(path, pipeline=[], split='train',
                              skip_invalid=True)
    assert [s[0] for s in dataset.skipped_samples] == [4]
    assert [d['frame_dir'] for d in dataset].count(first) == 1
    # other splits are not affected: the test split has its own names
    assert len(SafePoseDataset(path, pipeline=[], split='test')) == 3


def test_coordinates_far_outside_warn_and_skip(tmp_path, small_gym):
    """2D: more than one image size beyond the image (img_shape) is far
    outside; a joint just outside the frame is not. A warning counts them;
    skip_invalid drops them."""
    data = copy.deepcopy(small_gym)
    annos = data['annotations']
    h, w = annos[2]['img_shape']
    for i in (2, 4):
        annos[i]['keypoint'] = annos[i]['keypoint'].astype(np.float32)
    annos[2]['keypoint'][0, 3, 5] = (-0.9 * w, 1.9 * h)  # just inside bound
    annos[4]['keypoint'][0, 3, 5, 0] = 1e30
    annos[4]['keypoint'][0, 7, 2, 1] = 2.1 * h  # 1.1 images below
    path = _dump(tmp_path / 'far.pkl', data)
    with pytest.warns(UserWarning) as record:
        dataset = SafePoseDataset(path, pipeline=[], split='train')
    msg = '\n'.join(str(r.message) for r in record)
    assert 'far.pkl: 1 of 6 samples have coordinates far outside' in msg
    assert '2 values in all' in msg and 'sample 4' in msg
    assert '1e+30' in msg
    assert len(dataset) == 6

    dataset = SafePoseDataset(path, pipeline=[], split='train',
                              skip_invalid=True)
    assert len(dataset) == 5
    (index, _, reason), = dataset.skipped_samples
    assert index == 4 and '2 coordinate value(s) more than one image' in reason


def test_3d_coordinates_far_outside(small_gym):
    """3D keypoints are metres: a joint 150 m away is far outside, one
    20 m away is not."""
    rng = np.random.default_rng(0)
    annos = [dict(frame_dir=f'a{i}', label=0, total_frames=5,
                  keypoint=rng.normal(size=(1, 5, 20, 3)).astype(np.float32))
             for i in range(3)]
    annos[0]['keypoint'][0, 1, 1, 2] = 20.0
    annos[1]['keypoint'][0, 2, 3, 0] = -150.0
    with pytest.warns(UserWarning, match='1 of 3 samples .* sample 1 .*'
                      'more than 100 m from the origin'):
        valid, _ = validate_annotations(annos, 'kinect.pkl')
    assert len(valid) == 3
    valid, skipped = validate_annotations(annos, 'kinect.pkl',
                                          skip_invalid=True)
    assert [s[0] for s in skipped] == [1] and len(valid) == 2


@pytest.mark.filterwarnings('ignore:.*match no annotation')
def test_a_split_without_samples_is_named(tmp_path, small_gym):
    """Instead of numpy's "need at least one array to concatenate"."""
    data = copy.deepcopy(small_gym)
    data['split']['test'] = []
    data['split']['val'] = ['ghost_a', 'ghost_b']
    path = _dump(tmp_path / 'empty.pkl', data)
    with pytest.raises(ValueError, match=r"empty\.pkl: split 'test' has no "
                       r'samples: the "split" table lists no ids for it'):
        SafePoseDataset(path, pipeline=[], split='test')
    with pytest.raises(ValueError, match=r"split 'val' has no samples: none "
                       r"of its 2 ids matches"):
        SafePoseDataset(path, pipeline=[], split='val')
    # every sample of the split invalid, and dropped
    data = copy.deepcopy(small_gym)
    for anno in data['annotations'][6:]:
        anno['label'] = 7
    path = _dump(tmp_path / 'invalid.pkl', data)
    with pytest.raises(ValueError, match=r"invalid\.pkl: split 'test' has no "
                       r'samples: all 3 samples are invalid .*label 7'):
        SafePoseDataset(path, pipeline=[], split='test', num_classes=3,
                        skip_invalid=True)
    path = _dump(tmp_path / 'none.pkl', dict(split={}, annotations=[]))
    with pytest.raises(ValueError, match='the file has no annotations'):
        SafePoseDataset(path, pipeline=[])


def test_unknown_split(tmp_path, small_gym):
    path = _dump(tmp_path / 'ann.pkl', small_gym)
    with pytest.raises(KeyError) as info:
        SafePoseDataset(path, pipeline=[], split='val')
    msg = str(info.value)
    assert 'ann.pkl' in msg and "'val'" in msg
    assert "'test'" in msg and "'train'" in msg


def test_split_without_split_table(small_gym):
    annos = small_gym['annotations']
    with pytest.raises(AnnotationFormatError, match='no "split" table'):
        select_split(annos, 'train', 'bare.pkl')
    selected, indices = select_split(annos, None, 'bare.pkl')
    assert selected == annos and indices == list(range(len(annos)))


def test_split_ids_without_annotation_warn(small_gym):
    data = copy.deepcopy(small_gym)
    data['split']['train'] = data['split']['train'] + ['ghost_a', 'ghost_b']
    with pytest.warns(UserWarning, match='2 of 8 ids of split .train.'):
        selected, indices = select_split(data, 'train', 'ann.pkl')
    assert indices == list(range(6))


@pytest.mark.parametrize('data', [42, {'split': {}}, {'annotations': 'x'}])
def test_malformed_file_structure(tmp_path, data):
    path = _dump(tmp_path / 'odd.pkl', data)
    with pytest.raises(AnnotationFormatError, match='odd.pkl'):
        SafePoseDataset(path, pipeline=[])


def test_ntu_layouts_load(tmp_path):
    """NTU 3D (25 joints, C=3, 2 persons, no score) and NTU 2D (COCO-17,
    2 persons) samples validate and run through stock pipelines."""
    rng = np.random.default_rng(0)
    ntu3d = [
        dict(frame_dir=f'S001C001P001R001A{i:03d}', label=i, total_frames=20,
             keypoint=rng.normal(size=(2, 20, 25, 3)).astype(np.float32))
        for i in range(2)
    ]
    path = _dump(tmp_path / 'ntu3d.pkl',
                 dict(split=dict(xsub_train=[a['frame_dir'] for a in ntu3d]),
                      annotations=ntu3d))
    pipeline = [
        dict(type='PreNormalize3D'),
        dict(type='GenSkeFeat', dataset='nturgb+d', feats=['j']),
        dict(type='UniformSampleFrames', clip_len=8),
        dict(type='PoseDecode'),
        dict(type='FormatGCNInput', num_person=2),
        dict(type='PackActionInputs')
    ]
    dataset = SafePoseDataset(
        path, pipeline, split='xsub_train', num_classes=60)
    assert dataset[1]['inputs'].shape == (1, 2, 8, 25, 3)

    ntu2d = [
        dict(frame_dir='S001C001P001R001A001', label=0, total_frames=10,
             img_shape=(1080, 1920), original_shape=(1080, 1920),
             keypoint=rng.uniform(0, 1000, (2, 10, 17, 2)).astype(np.float16),
             keypoint_score=np.ones((2, 10, 17), np.float16))
    ]
    path = _dump(tmp_path / 'ntu2d.pkl', ntu2d)
    pipeline = copy.deepcopy(GCN_PIPELINE_2D)
    pipeline[-2]['num_person'] = 2
    dataset = SafePoseDataset(path, pipeline)
    assert dataset[0]['inputs'].shape == (1, 2, 16, 17, 3)


# --------------------------------------------------------------------------
# Synthetic Gym288-format data
# --------------------------------------------------------------------------
GYM_KEYS = {
    'frame_dir', 'label', 'img_shape', 'original_shape', 'total_frames',
    'keypoint', 'keypoint_score', 'kp_wo_gt', 'kp_w_gt'
}


def test_synthetic_gym_format():
    data = make_synthetic_gym(
        num_classes=5, train_per_class=3, test_per_class=2, min_frames=16,
        max_frames=40, seed=3)
    assert set(data) == {'split', 'annotations'}
    assert set(data['split']) == {'train', 'test'}
    assert len(data['split']['train']) == 15
    assert len(data['split']['test']) == 10
    annos = data['annotations']
    assert len(annos) == 25
    ids = [a['frame_dir'] for a in annos]
    assert len(set(ids)) == 25
    assert set(ids) == set(data['split']['train'] + data['split']['test'])
    for anno in annos:
        assert set(anno) == GYM_KEYS
        num_frames = anno['total_frames']
        assert type(num_frames) is int and 16 <= num_frames <= 40
        assert type(anno['label']) is int and 0 <= anno['label'] < 5
        assert anno['img_shape'] == anno['original_shape'] == (720, 1280)
        kp, score = anno['keypoint'], anno['keypoint_score']
        assert kp.dtype == np.float16 and kp.shape == (1, num_frames, 17, 2)
        assert score.dtype == np.float16 and score.shape == (1, num_frames,
                                                             17)
        assert ((score >= 0.5) & (score <= 1.0)).all()
        assert (kp[..., 0] >= 0).all() and (kp[..., 0] < 1280).all()
        assert (kp[..., 1] >= 0).all() and (kp[..., 1] < 720).all()
        for key in ('kp_wo_gt', 'kp_w_gt'):
            assert anno[key].dtype == np.float32
            assert anno[key].shape == (num_frames, 17, 3)
        assert not anno['kp_wo_gt'].any()
        np.testing.assert_array_equal(anno['kp_w_gt'][..., :2], kp[0])
        np.testing.assert_array_equal(anno['kp_w_gt'][..., 2], score[0])
    labels = [a['label'] for a in annos]
    assert all(labels.count(c) == 5 for c in range(5))

    # Deterministic per seed; nuisance differs between seeds.
    again = make_synthetic_gym(
        num_classes=5, train_per_class=3, test_per_class=2, min_frames=16,
        max_frames=40, seed=3)
    np.testing.assert_array_equal(again['annotations'][7]['keypoint'],
                                  annos[7]['keypoint'])
    other = make_synthetic_gym(num_classes=1, train_per_class=1,
                               test_per_class=0, seed=4)
    assert not np.array_equal(other['annotations'][0]['keypoint'][0, :16],
                              annos[0]['keypoint'][0, :16])
    with pytest.raises(ValueError):
        make_synthetic_gym(num_classes=25)
    assert synthetic_class_spec(19) == dict(
        saltos=2, twists=0, arm='right', timing='late',
        name='salto2_twist0_rightarm_late')


def test_synthetic_gym_through_safe_pose_dataset(tmp_path):
    path = str(tmp_path / 'sub' / 'gym_synthetic.pkl')
    data = write_synthetic_gym(
        path, num_classes=4, train_per_class=2, test_per_class=1, seed=0)
    assert os.listdir(osp.dirname(path)) == ['gym_synthetic.pkl']
    assert len(safe_load_pickle(path)['annotations']) == len(
        data['annotations'])

    train = SafePoseDataset(path, GCN_PIPELINE_2D, split='train',
                            num_classes=4)
    test = SafePoseDataset(path, GCN_PIPELINE_2D, split='test',
                           num_classes=4, test_mode=True)
    assert (len(train), len(test)) == (8, 4)
    info = train.get_data_info(0)
    assert info['keypoint'].dtype == np.float32
    assert info['keypoint_score'].dtype == np.float32
    sample = train[0]
    assert tuple(sample['inputs'].shape) == (1, 1, 16, 17, 3)
    assert sample['inputs'].dtype.is_floating_point
    assert float(sample['inputs'][..., :2].abs().max()) <= 1.0
    assert int(sample['data_samples'].gt_label) == 0


def test_generate_synthetic_gym_cli(tmp_path, capsys):
    script = REPO_ROOT / 'tools' / 'data' / 'generate_synthetic_gym.py'
    spec = importlib.util.spec_from_file_location('gen_synth_gym', script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = tmp_path / 'gym.pkl'
    module.main([
        '--out', str(out), '--num-classes', '2', '--train-per-class', '2',
        '--test-per-class', '1', '--seed', '5'
    ])
    assert str(out) in capsys.readouterr().out
    data = safe_load_pickle(str(out))
    assert len(data['split']['train']) == 4
    assert len(data['split']['test']) == 2


def _time_normalised(keypoint, length=32):
    """``(T, 17, 2)`` pixels -> pelvis-centred, torso-scaled, resampled to
    ``length`` frames and flattened."""
    kp = keypoint.astype(np.float64)
    pelvis = kp[:, 11:13].mean(1, keepdims=True)
    torso = np.median(
        np.linalg.norm(kp[:, 5:7].mean(1) - pelvis[:, 0], axis=-1))
    kp = (kp - pelvis) / torso
    src = np.linspace(0, len(kp) - 1, length)
    lo = np.floor(src).astype(int)
    hi = np.minimum(lo + 1, len(kp) - 1)
    w = (src - lo)[:, None, None]
    return ((1 - w) * kp[lo] + w * kp[hi]).ravel()


def _interpolate_dropped(keypoint, valid):
    t = np.arange(len(keypoint))
    flat = keypoint.reshape(len(keypoint), -1).astype(np.float64)
    out = np.stack(
        [np.interp(t, t[valid], flat[valid, i]) for i in range(flat.shape[1])],
        axis=1)
    return out.reshape(keypoint.shape)


def test_synthetic_classes_are_distinguishable():
    """Nearest class centroid on time-normalised sequences beats chance by
    far; losing most frames (even linearly interpolated back) costs it."""
    data = make_synthetic_gym(seed=0)  # the default 12 x (30 + 10)
    test_ids = set(data['split']['test'])
    train = [a for a in data['annotations'] if a['frame_dir'] not in test_ids]
    test = [a for a in data['annotations'] if a['frame_dir'] in test_ids]
    feats = np.stack([_time_normalised(a['keypoint'][0]) for a in train])
    labels = np.array([a['label'] for a in train])
    centroids = np.stack([feats[labels == c].mean(0) for c in range(12)])
    test_labels = np.array([a['label'] for a in test])

    def accuracy(test_feats):
        dist = ((test_feats[:, None] - centroids[None])**2).sum(-1)
        return float((dist.argmin(1) == test_labels).mean())

    clean = accuracy(
        np.stack([_time_normalised(a['keypoint'][0]) for a in test]))
    rng = np.random.default_rng(0)
    corrupted = []
    for anno in test:
        kp = anno['keypoint'][0]
        valid = np.zeros(len(kp), bool)
        valid[rng.choice(len(kp), len(kp) // 4, replace=False)] = True
        corrupted.append(_time_normalised(_interpolate_dropped(kp, valid)))
    severe = accuracy(np.stack(corrupted))
    assert clean > 0.4, clean  # chance: 1 / 12
    assert severe < clean - 0.05, (clean, severe)


# --------------------------------------------------------------------------
# Penn Action (real data, when the shared folder is beside the repo)
# --------------------------------------------------------------------------
@pytest.mark.skipif(
    not PENN_PKL.exists(), reason='shared Penn Action data not available')
def test_penn_action_loads():
    path = str(PENN_PKL)
    train = SafePoseDataset(path, GCN_PIPELINE_2D, split='train',
                            num_classes=15)
    test = SafePoseDataset(path, GCN_PIPELINE_2D, split='test',
                           num_classes=15, test_mode=True)
    assert (len(train), len(test)) == (1258, 1068)
    assert train.skipped_samples == [] and test.skipped_samples == []
    sample = test[0]
    assert tuple(sample['inputs'].shape) == (1, 1, 16, 17, 3)
    labels = {train.get_data_info(i)['label'] for i in range(len(train))}
    assert labels == set(range(15))
