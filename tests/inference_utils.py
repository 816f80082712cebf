"""Helpers of the tests of the inference API, the demo and the ONNX export:
tiny checkpoints and pose files written the way MMPose writes them."""
import json
import os.path as osp
import pickle

import numpy as np
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from mmaction.registry import MODELS

TEST_CONFIGS = osp.join(osp.dirname(osp.abspath(__file__)), 'configs')
FINETEC = osp.join(TEST_CONFIGS, 'finetec_tiny_gymsynth_own_gaps.py')
STGCNPP = osp.join(TEST_CONFIGS, 'stgcnpp_tiny_gymsynth.py')
PLUGPLAY = osp.join(TEST_CONFIGS, 'plugplay_tiny_gymsynth.py')


def tiny_checkpoint(config: str, path: str, synthetic_file: str,
                    num_classes: int = 4, seed: int = 0, **model) -> str:
    """Save the weights of the config's model as a checkpoint, the way
    mmengine stores them (``{'state_dict': ...}``). Accuracy does not
    matter to these tests: the weights are the initial ones plus seeded
    noise, so that the class scores depend on the input. A completion
    module gets its bank from the synthetic training split, untrained
    (training-free restoration)."""
    init_default_scope('mmaction')
    cfg = Config.fromfile(config).model.to_dict()
    cfg['cls_head']['num_classes'] = num_classes
    if cfg.get('completion'):
        cfg['completion_checkpoint'] = None
        cfg['completion']['bank'] = dict(ann_file=synthetic_file,
                                         split='train')
    cfg.update(model)
    torch.manual_seed(seed)
    net = MODELS.build(cfg)
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, param in net.named_parameters():
            if not name.startswith('completion.'):
                param.add_(0.2 * torch.randn(param.shape, generator=gen))
    torch.save(dict(state_dict=net.state_dict(), meta=dict()), path)
    return path


def synthetic_test_sample(synthetic_file: str, index: int = 0) -> dict:
    """An annotation of the synthetic test split."""
    with open(synthetic_file, 'rb') as f:
        data = pickle.load(f)
    name = data['split']['test'][index]
    return next(a for a in data['annotations'] if a['frame_dir'] == name)


def mmpose_instance(keypoints: np.ndarray, scores: np.ndarray,
                    bbox_score: float = 0.9) -> dict:
    """One instance as ``mmpose.structures.split_instances`` writes it: the
    box as a one-element list ``[[x1, y1, x2, y2]]``."""
    xy = np.asarray(keypoints, np.float64)
    box = [float(xy[:, 0].min()), float(xy[:, 1].min()),
           float(xy[:, 0].max()), float(xy[:, 1].max())]
    return dict(keypoints=xy.tolist(),
                keypoint_scores=np.asarray(scores, np.float64).tolist(),
                bbox=[box], bbox_score=float(bbox_score))


def write_mmpose_video(path: str, people, missing=()) -> str:
    """MMPose's video prediction file (``[{"frame_id", "instances"}]``, as
    its inferencer dumps it) of ``people``: a list of ``(keypoint (T, V,
    2), score (T, V))``; frames in ``missing`` have ``"instances": []``."""
    num_frames = len(people[0][0])
    frames = []
    for t in range(num_frames):
        instances = [] if t in set(missing) else [
            mmpose_instance(kp[t], sc[t]) for kp, sc in people]
        frames.append(dict(frame_id=t, instances=instances))
    with open(path, 'w') as f:
        json.dump(frames, f, indent='  ')
    return path


def zeroed_pickle(path: str, ann: dict, missing) -> str:
    """A PoseDataset pickle of ``ann`` alone (its test split) with the
    frames ``missing`` zeroed, coordinates and scores."""
    ann = dict(ann)
    for key in ('keypoint', 'keypoint_score'):
        value = ann[key].copy()
        value[:, list(missing)] = 0
        ann[key] = value
    with open(path, 'wb') as f:
        pickle.dump(dict(split=dict(test=[ann['frame_dir']]),
                         annotations=[ann]), f)
    return path
