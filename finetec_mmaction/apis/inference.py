"""FineTec on one's own pose data, with MMAction2's inference API.

``init_recognizer`` / ``inference_skeleton`` take the arguments of
``mmaction.apis`` (switching is a change of import) and work for every
FineTec, ablation, plug-and-play and stock ST-GCN++ config of this project;
``init_restorer`` / ``restore_skeleton`` only fill the gaps.

The frames an estimator missed are really missing, so the config's
simulated :class:`TemporalCorruption` is not applied:
:class:`ZeroFillMissingFrames` takes its place, and the rest of the test
pipeline runs as in ``tools/test.py``. The result carries, besides
``pred_score`` / ``pred_label``:

* ``frame_valid`` ``(M, T)`` bool: the observed person frames of the input;
* ``restored_keypoint`` ``(M, T, V, C)``: ``S_base`` of module ① over the
  whole input, in its pixel (2D) or metre (3D) coordinates: observed
  frames as given, missing ones restored, NaN where nothing restores them
  (a model without ①);
* ``restored_keypoint_score`` ``(M, T, V)`` (2D), ``restored_mask``
  ``(M, T)``: the frames that were missing and are now restored.
"""
import copy
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate
from mmengine.registry import init_default_scope

from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from ..datasets.readers import DEFAULT_KPT_THR, PoseFileError, PoseSequence
from ..models.completion.checkpoint import load_completion_weights
from ..models.completion.bank import SkeletonBank
from ..utils.checkpoint_check import (CheckpointMismatchError,
                                      check_state_dict_compatible,
                                      holds_completion_weights,
                                      load_state_dict_file,
                                      use_bundled_completion)
from ..utils.io import resolve_checkpoint
from .restoration import (fit_affine, observed_points, restore_in_windows,
                          undo_affine)

__all__ = ['init_recognizer', 'inference_skeleton', 'init_restorer',
           'restore_skeleton', 'inference_pipeline', 'config_test_pipeline',
           'InputLayout']

PoseInput = Union[Sequence[Dict], PoseSequence]
NORMALIZERS = ('PreNormalize2D', 'PreNormalize3D')
SAMPLERS = ('UniformSampleFrames', 'SampleFrames')


# --------------------------------------------------------------- configs
def load_config(config: Union[str, Path, Config],
                cfg_options: Optional[Dict] = None) -> Config:
    """A config from a file or a :class:`Config` (copied), with
    ``cfg_options`` merged."""
    if isinstance(config, (str, Path)):
        cfg = Config.fromfile(str(config))
    elif isinstance(config, Config):
        cfg = copy.deepcopy(config)
    else:
        raise TypeError('config must be a filename or Config object, got '
                        f'{type(config)}.')
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    return cfg


def _type_name(transform) -> str:
    if isinstance(transform, dict):
        return str(transform.get('type', '')).split('.')[-1]
    return type(transform).__name__


def config_test_pipeline(cfg: Config) -> List[Dict]:
    """The test pipeline ``tools/test.py`` runs: that of
    ``test_dataloader.dataset`` (unwrapping dataset wrappers), else
    ``cfg.test_pipeline``."""
    dataset = (cfg.get('test_dataloader') or {}).get('dataset')
    while dataset is not None and 'pipeline' not in dataset and \
            'dataset' in dataset:
        dataset = dataset['dataset']
    if dataset is not None and 'pipeline' in dataset:
        return copy.deepcopy(list(dataset['pipeline']))
    if cfg.get('test_pipeline'):
        return copy.deepcopy(list(cfg.test_pipeline))
    raise ValueError(f'{cfg.filename}: no test pipeline (test_dataloader.'
                     'dataset.pipeline or test_pipeline).')


def inference_pipeline(pipeline: Sequence[Dict]) -> List[Dict]:
    """The test pipeline for frames that are really missing: each
    ``TemporalCorruption`` becomes ``ZeroFillMissingFrames``; without one,
    ``ZeroFillMissingFrames`` goes right after the normalisation (the
    pipeline's first step if it has none)."""
    pipeline = [copy.deepcopy(t) for t in pipeline]
    names = [_type_name(t) for t in pipeline]
    zero_fill = dict(type='ZeroFillMissingFrames')
    if 'TemporalCorruption' in names:
        return [dict(zero_fill) if n == 'TemporalCorruption' else t
                for t, n in zip(pipeline, names)]
    place = max((i + 1 for i, n in enumerate(names) if n in NORMALIZERS),
                default=0)
    return pipeline[:place] + [zero_fill] + pipeline[place:]


class InputLayout:
    """What the input must look like for a test pipeline: ``coord_dims``
    (3 with ``PreNormalize3D``, else 2), ``num_person`` (its
    ``FormatGCNInput``), ``num_joints`` (given), ``needs_img_shape``."""

    def __init__(self, pipeline: Sequence, num_joints: Optional[int]):
        names = [_type_name(t) for t in pipeline]
        self.coord_dims = 3 if 'PreNormalize3D' in names else 2
        self.num_joints = num_joints
        fmt = [t for t, n in zip(pipeline, names) if n == 'FormatGCNInput']
        fmt = fmt[0] if fmt else {}
        self.num_person = int(fmt.get('num_person', 2) if isinstance(
            fmt, dict) else getattr(fmt, 'num_person', 2))
        norm = [t for t, n in zip(pipeline, names) if n == 'PreNormalize2D']
        # a PreNormalize2D without img_shape normalises by that of the data
        self.needs_img_shape = bool(norm) and not (
            isinstance(norm[0], dict) and 'img_shape' in norm[0])

    def check(self, seq: PoseSequence, img_shape) -> None:
        channels = seq.keypoint.shape[-1]
        if channels != self.coord_dims:
            raise PoseFileError(
                f'{seq.source}: {channels}D poses, but the model reads '
                f'{self.coord_dims}D ones (its test pipeline '
                f'{"normalises 3D" if self.coord_dims == 3 else "is 2D"}).')
        if self.num_joints is not None and seq.num_joints != self.num_joints:
            raise PoseFileError(
                f'{seq.source}: {seq.num_joints} keypoints per person, but '
                f'the model reads {self.num_joints} (another skeleton '
                'layout, e.g. COCO-WholeBody or Halpe instead of COCO-17?).')
        if self.needs_img_shape and img_shape is None:
            raise ValueError(
                f'{seq.source}: the image shape is unknown, and the model '
                'normalises pixel coordinates by it (PreNormalize2D): pass '
                'img_shape=(H, W) (demo: --img-shape H W). MMPose\'s '
                'prediction files do not record it.')


def _model_joints(model: torch.nn.Module) -> Optional[int]:
    completion = getattr(model, 'completion', None)
    if completion is not None and hasattr(completion, 'num_joints'):
        return int(completion.num_joints)
    graph = getattr(getattr(model, 'backbone', None), 'graph', None)
    return int(graph.num_node) if graph is not None else None


# ---------------------------------------------------------------- models
def init_recognizer(config: Union[str, Path, Config],
                    checkpoint: Optional[str] = None,
                    device: Union[str, torch.device] = 'cuda:0',
                    cfg_options: Optional[Dict] = None) -> torch.nn.Module:
    """Build a recognizer from a config and load a checkpoint (MMAction2's
    ``init_recognizer``, made strict).

    A FineTec checkpoint carries its frozen completion module and bank, so
    neither the stage-1 checkpoint nor the bank's source data are needed;
    under a plug-and-play config a stock ST-GCN++ checkpoint gets ① from
    ``model.completion_checkpoint`` (or, set to ``None``, untrained, its
    bank built from the config: the training-free restoration).

    Args:
        config (str | Path | Config): Config file or object.
        checkpoint (str, optional): Checkpoint file or work dir (its
            ``last_checkpoint``); ``None`` keeps the initial weights.
        device (str | torch.device): Defaults to ``'cuda:0'``, as in
            MMAction2.
        cfg_options (dict, optional): Overrides merged into the config.

    Raises:
        CheckpointMismatchError: The checkpoint is of another class count
            or skeleton layout, or not a checkpoint of this model.
    """
    cfg = load_config(config, cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmaction'))
    path = None
    if checkpoint is not None:
        path = resolve_checkpoint(str(checkpoint))
        if not Path(path).is_file():
            raise FileNotFoundError(f'Checkpoint not found: {path}')
        use_bundled_completion(cfg.model, path)
    model = MODELS.build(cfg.model)
    if path is not None:
        state = load_state_dict_file(path)
        check_state_dict_compatible(model, state, path)
        missing, unexpected = model.load_state_dict(state, strict=False)
        if not holds_completion_weights(state):
            # a stock checkpoint under a plug-and-play config: ① was loaded
            # (or left training-free) at build time
            missing = [k for k in missing if not k.startswith('completion.')]
        if missing or unexpected:
            raise CheckpointMismatchError(
                f'{path} does not fit the model of {cfg.filename}: missing '
                f'weights {missing[:5]}, unexpected weights '
                f'{unexpected[:5]} (a stage-1 checkpoint where a recognizer '
                'is expected?).')
    model.cfg = cfg
    return model.to(device).eval()


def init_restorer(config: Union[str, Path, Config],
                  checkpoint: Optional[str] = None,
                  bank: Optional[str] = None,
                  device: Union[str, torch.device] = 'cpu',
                  cfg_options: Optional[Dict] = None) -> torch.nn.Module:
    """Module ① alone, to fill gaps without classifying.

    Args:
        config: A config with ``model.completion``: stage 1
            (``configs/finetec/completion_*.py``), FineTec or plug-and-play.
        checkpoint (str, optional): A checkpoint with ``completion.*``
            weights (stage 1 or stage 2). ``None``: the untrained module,
            which restores training-free (Akima, plus retrieval from the
            bank when the config sets ``retrieval``).
        bank (str, optional): A skeleton bank file
            (:meth:`SkeletonBank.save`) to use instead of the config's or
            the checkpoint's.
        device, cfg_options: As in :func:`init_recognizer`.

    Returns:
        ContextAwareCompletion: In eval mode, with the config as ``.cfg``.
    """
    cfg = load_config(config, cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmaction'))
    comp_cfg = cfg.model.get('completion')
    if not comp_cfg:
        raise ValueError(f'{cfg.filename}: the model has no completion '
                         'module (model.completion) to restore with.')
    comp_cfg = copy.deepcopy(comp_cfg)
    if checkpoint is not None or bank is not None:
        comp_cfg['bank'] = None  # filled from the checkpoint or the file
    completion = MODELS.build(comp_cfg)
    if checkpoint is not None:
        path = resolve_checkpoint(str(checkpoint))
        if not Path(path).is_file():
            raise FileNotFoundError(f'Checkpoint not found: {path}')
        load_completion_weights(completion, path, cfg.filename)
    if bank is not None:
        completion.bank.set_sequences(SkeletonBank.load(bank).sequences)
    completion.cfg = cfg
    return completion.to(device).eval()


# ------------------------------------------------------------- inference
def _sequence(pose_results: PoseInput, layout: InputLayout,
              num_person: Optional[int], kpt_thr: float) -> PoseSequence:
    if isinstance(pose_results, PoseSequence):
        return pose_results
    return PoseSequence.from_pose_results(
        pose_results, num_person or layout.num_person, kpt_thr)


def _transforms(cfg: Config, test_pipeline) -> List:
    """The transforms (configs or objects) of the pipeline to run: the
    given one, else the config's for real missing frames."""
    if test_pipeline is None:
        test_pipeline = inference_pipeline(config_test_pipeline(cfg))
    return list(test_pipeline.transforms) if isinstance(
        test_pipeline, Compose) else list(test_pipeline)


def _compose(transforms) -> Compose:
    init_default_scope('mmaction')
    return Compose(list(transforms))


def inference_skeleton(model: torch.nn.Module,
                       pose_results: PoseInput,
                       img_shape: Optional[Tuple[int, int]] = None,
                       test_pipeline=None,
                       num_person: Optional[int] = None,
                       kpt_thr: float = DEFAULT_KPT_THR) -> ActionDataSample:
    """Recognise the action of one video's poses.

    Args:
        model (nn.Module): From :func:`init_recognizer`.
        pose_results (list[dict] | PoseSequence): MMAction2's per-frame
            ``dict(keypoints=(N, V, C), keypoint_scores=(N, V))``
            (optionally ``bboxes``), people followed by
            :func:`~finetec_mmaction.core.track_people`; or a sequence from
            :func:`~finetec_mmaction.datasets.readers.read_poses`.
        img_shape (tuple, optional): ``(H, W)`` of the video (needed for
            2D pixel input unless the sequence knows it).
        test_pipeline (list[dict] | Compose, optional): Default: the
            config's test pipeline for real missing frames
            (:func:`inference_pipeline`).
        num_person (int, optional): People to keep; default: the
            pipeline's ``FormatGCNInput(num_person)``.
        kpt_thr (float): A detection with a lower mean keypoint score is
            not used (its frame is missing).

    Returns:
        ActionDataSample: ``pred_score``, ``pred_label`` and the fields of
        the module docstring.
    """
    cfg = model.cfg
    transforms = _transforms(cfg, test_pipeline)
    layout = InputLayout(transforms, _model_joints(model))
    seq = _sequence(pose_results, layout, num_person, kpt_thr)
    img_shape = tuple(img_shape) if img_shape is not None else seq.img_shape
    layout.check(seq, img_shape)
    ann = seq.to_annotation(img_shape)
    data = pseudo_collate([_compose(transforms)(copy.deepcopy(ann))])
    with torch.no_grad():
        result = model.test_step(data)[0]
    completion = getattr(model, 'completion', None)
    _add_restoration(result, seq, ann, transforms, completion, layout)
    return result


def restore_skeleton(restorer: torch.nn.Module,
                     pose_results: PoseInput,
                     img_shape: Optional[Tuple[int, int]] = None,
                     num_person: Optional[int] = None,
                     kpt_thr: float = DEFAULT_KPT_THR) -> ActionDataSample:
    """Fill the missing frames of one video's poses (no classification).

    Args:
        restorer (nn.Module): From :func:`init_restorer`, or a recognizer
            with a completion module (:func:`init_recognizer`).
        pose_results, img_shape, num_person, kpt_thr: As in
            :func:`inference_skeleton`.

    Returns:
        ActionDataSample: ``frame_valid``, ``restored_keypoint`` (and
        ``restored_keypoint_score``), ``restored_mask``.
    """
    completion = getattr(restorer, 'completion', restorer)
    if completion is None or not hasattr(completion, 'clip_len'):
        raise ValueError(f'{type(restorer).__name__} has no completion '
                         'module (①) to restore with.')
    cfg = restorer.cfg
    transforms = _transforms(cfg, None)
    layout = InputLayout(transforms, int(completion.num_joints))
    seq = _sequence(pose_results, layout, num_person, kpt_thr)
    img_shape = tuple(img_shape) if img_shape is not None else seq.img_shape
    layout.check(seq, img_shape)
    result = ActionDataSample()
    _add_restoration(result, seq, seq.to_annotation(img_shape), transforms,
                     completion, layout)
    return result


def _add_restoration(result: ActionDataSample, seq: PoseSequence, ann: Dict,
                     transforms: List, completion, layout: InputLayout) -> None:
    """Set ``frame_valid``, ``restored_keypoint(_score)`` and
    ``restored_mask`` on ``result`` (see the module docstring)."""
    dims = layout.coord_dims
    restored = np.where(seq.valid[..., None, None], seq.keypoint,
                        np.nan).astype(np.float32)
    scores = None if seq.keypoint_score is None else np.where(
        seq.valid[..., None], seq.keypoint_score, np.nan).astype(np.float32)
    holds = seq.valid.copy()
    if completion is not None and not seq.valid.all():
        norm, s_base, holds = _restore_normalised(ann, transforms,
                                                  completion, seq.valid)
        raw = ann['keypoint'][..., :dims]
        points = observed_points(raw, seq.valid)
        weight, bias = fit_affine(raw[points], norm[..., :dims][points],
                                  'the test pipeline\'s normalisation')
        fill = holds & ~seq.valid
        restored[fill] = undo_affine(s_base[fill][..., :dims], weight,
                                     bias).astype(np.float32)
        if scores is not None and s_base.shape[-1] > dims:
            scores[fill] = s_base[fill][..., dims]
    result.set_data(dict(frame_valid=seq.valid.copy(),
                         restored_keypoint=restored,
                         restored_mask=holds & ~seq.valid))
    if scores is not None:
        result.set_data(dict(restored_keypoint_score=scores))
    result.set_metainfo(dict(num_frames=seq.num_frames,
                             img_shape=ann.get('img_shape'),
                             source=seq.source))


def _restore_normalised(ann: Dict, transforms: List, completion,
                        valid: np.ndarray):
    """Run the pipeline up to its frame sampler (normalisation, zero fill,
    features) on the whole sequence and restore it with ①.

    Returns ``(normalised input (M, T, V, C), S_base (M, T, V, C), frames
    held (M, T))``, numpy.
    """
    names = [_type_name(t) for t in transforms]
    end = next((i for i, n in enumerate(names) if n in SAMPLERS),
               len(names))
    for t, n in zip(transforms[:end], names[:end]):
        feats = t.get('feats', ['j']) if isinstance(t, dict) else \
            getattr(t, 'feats', ['j'])
        if n == 'GenSkeFeat' and list(feats) != ['j']:
            raise ValueError('Restoration works on joints, but the test '
                             f'pipeline makes the features {list(feats)}.')
    prefix = _compose(transforms[:end])(copy.deepcopy(ann))
    x = torch.as_tensor(np.asarray(prefix['keypoint'], np.float32))
    param = next(completion.parameters(), None)
    device = param.device if param is not None else torch.device('cpu')
    s_base, holds = restore_in_windows(
        completion, x.to(device), torch.as_tensor(valid).to(device))
    return x.numpy(), s_base.float().cpu().numpy(), holds.cpu().numpy()
