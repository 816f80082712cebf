# FineTec skeleton demo: recognise the action in one's own pose file and
# restore the frames the pose estimator missed.
#
#   python demo/demo_skeleton.py video.json --config CONFIG --checkpoint CKPT \
#       --img-shape 720 1280 --out-json out.json --out-restored out.npy \
#       --vis out.gif
#   python demo/demo_skeleton.py video.json --restore-only --config CONFIG \
#       [--checkpoint STAGE1_CKPT | --bank BANK.npz] --vis out.png
#
# INPUT: MMPose's prediction JSON for a video, a folder of MMPose's per-image
# JSONs, a NumPy .npy/.npz of (T, V, C) or (M, T, V, C) with NaN or zeros
# for missing frames, or a PoseDataset .pkl with --frame-dir.
import argparse
import json
import os
import os.path as osp
import sys
import tempfile

import numpy as np

import finetec_mmaction  # noqa: F401  (compat fixes + registration first)
from mmengine.config import DictAction

from finetec_mmaction.apis.inference import (InputLayout,
                                             config_test_pipeline,
                                             inference_skeleton,
                                             init_recognizer, init_restorer,
                                             load_config, restore_skeleton)
from finetec_mmaction.datasets.label_maps import label_names
from finetec_mmaction.datasets.readers import DEFAULT_KPT_THR, read_poses
from finetec_mmaction.utils.io import atomic_write
from finetec_mmaction.visualization import (check_vis_path,
                                            draw_restored_sequence,
                                            skeleton_edges)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='FineTec skeleton demo: action recognition and '
        'restoration of missing frames on your own pose file')
    parser.add_argument(
        'input', help='MMPose prediction .json (video), a folder of '
        'per-image .json, .npy/.npz keypoints, or a PoseDataset .pkl')
    parser.add_argument('--config', required=True, help='model config')
    parser.add_argument(
        '--checkpoint',
        help='recognizer checkpoint (with --restore-only: optional, any '
        'checkpoint holding the completion module, e.g. stage 1)')
    parser.add_argument(
        '--restore-only', action='store_true',
        help='only restore the missing frames (no classifier needed)')
    parser.add_argument(
        '--bank', help='skeleton bank file for the training-free retrieval '
        'restoration (--restore-only)')
    parser.add_argument(
        '--label-map', help='class names, one per line (default: the '
        'shipped map of the config\'s dataset, else class indices)')
    parser.add_argument(
        '--img-shape', type=int, nargs=2, metavar=('H', 'W'),
        help='image height and width of the video (2D pixel input: MMPose\'s '
        'JSON does not record it)')
    parser.add_argument(
        '--num-person', type=int,
        help='people to keep, the most persistent tracks (default: the '
        'config\'s FormatGCNInput num_person)')
    parser.add_argument(
        '--kpt-thr', type=float, default=DEFAULT_KPT_THR,
        help='a person whose mean keypoint score is below it counts as not '
        f'found in that frame (default {DEFAULT_KPT_THR})')
    parser.add_argument('--frame-dir', help='the sample of a .pkl input')
    parser.add_argument('--out-json', help='write labels, scores and the '
                        'missing frames here')
    parser.add_argument(
        '--out-restored', help='write the restored sequence: .npy (M, T, V, '
        'C) coordinates, NaN where not restored; .npz also holds scores and '
        'masks')
    parser.add_argument('--vis', help='draw the sequence: .gif or .mp4 '
                        '(animation) or .png (strip of frames)')
    parser.add_argument('--fps', type=float, default=10, help='animation '
                        'frame rate')
    parser.add_argument('--device', default='cpu', help='cpu or cuda')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override settings of the config, key=value')
    args = parser.parse_args(argv)
    if not args.restore_only and not args.checkpoint:
        parser.error('--checkpoint is required (or pass --restore-only)')
    if args.bank and not args.restore_only:
        parser.error('--bank applies to --restore-only')
    return args


def check_output(path: str) -> None:
    """Fail now, before any work, if ``path`` cannot be written."""
    folder = osp.dirname(osp.abspath(path))
    if osp.isdir(path):
        raise SystemExit(f'error: cannot write {path}: it is a folder.')
    try:
        os.makedirs(folder, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=folder, prefix='.write_test.')
        os.close(fd)
        os.remove(probe)
    except OSError as err:
        raise SystemExit(f'error: cannot write {path}: {err.strerror or err} '
                         f'({folder}).') from None


def _frames(mask: np.ndarray):
    return [np.flatnonzero(row).tolist() for row in mask]


def summary(result, seq, names, args) -> dict:
    valid = np.asarray(result.frame_valid)
    restored = np.asarray(result.restored_mask)
    out = dict(
        input=args.input,
        config=args.config,
        checkpoint=args.checkpoint,
        num_frames=int(valid.shape[1]),
        num_person=int(valid.shape[0]),
        kpt_thr=args.kpt_thr,
        img_shape=None if seq.img_shape is None else list(seq.img_shape),
        missing_frames=seq.missing_frames.tolist(),
        missing_frames_per_person=_frames(~valid),
        restored_frames_per_person=_frames(restored),
        num_missing=int((~valid).sum()),
        num_restored=int(restored.sum()))
    if 'pred_score' in result:
        scores = result.pred_score.float().cpu().numpy()
        order = np.argsort(-scores, kind='stable')
        out.update(
            pred_label=int(order[0]),
            pred_name=names[order[0]],
            top5=[dict(label=int(i), name=names[i], score=float(scores[i]))
                  for i in order[:5]],
            label_names=names,
            scores=scores.tolist())
    return out


def report(info: dict) -> str:
    lines = [f"{info['input']}: {info['num_frames']} frames, "
             f"{info['num_person']} person(s) tracked"]
    lines.append(f"missing person frames: {info['num_missing']} "
                 f"(frames without anyone: {len(info['missing_frames'])}), "
                 f"restored: {info['num_restored']}")
    if 'top5' in info:
        lines.append('top-5:')
        lines += [f'  {k + 1}. {c["name"]:<24s} {c["score"]:.4f}'
                  for k, c in enumerate(info['top5'])]
    return '\n'.join(lines)


def write_restored(path: str, result) -> None:
    keypoint = np.asarray(result.restored_keypoint, np.float32)
    if path.endswith('.npz'):
        arrays = dict(keypoint=keypoint,
                      frame_valid=np.asarray(result.frame_valid),
                      restored_mask=np.asarray(result.restored_mask))
        if 'restored_keypoint_score' in result:
            arrays['keypoint_score'] = np.asarray(
                result.restored_keypoint_score, np.float32)
        atomic_write(path, lambda f: np.savez(f, **arrays))
    else:
        atomic_write(path, lambda f: np.save(f, keypoint))


def main(argv=None):
    args = parse_args(argv)
    outputs = [p for p in (args.out_json, args.out_restored, args.vis) if p]
    for path in outputs:
        check_output(path)
    if args.vis:
        try:
            check_vis_path(args.vis)
        except (ValueError, RuntimeError) as err:
            raise SystemExit(f'error: {err}') from None
    if args.device.startswith('cuda'):
        import torch
        if not torch.cuda.is_available():
            raise SystemExit('error: --device cuda, but CUDA is not '
                             'available here; use --device cpu.')

    # read the input before loading the model: a bad file fails fast
    cfg = load_config(args.config, args.cfg_options)
    layout = InputLayout(config_test_pipeline(cfg), None)
    seq = read_poses(args.input, args.num_person or layout.num_person,
                     args.kpt_thr, layout.coord_dims, args.frame_dir,
                     args.img_shape)
    if args.restore_only:
        model = init_restorer(cfg, args.checkpoint, args.bank, args.device)
        result = restore_skeleton(model, seq)
        names = None
    else:
        model = init_recognizer(cfg, args.checkpoint, args.device)
        result = inference_skeleton(model, seq)
        names = label_names(
            int(result.pred_score.numel()), args.label_map,
            _ann_file(cfg))
    info = summary(result, seq, names, args)
    print(report(info))

    if args.out_json:
        atomic_write(args.out_json, lambda f: f.write(
            json.dumps(info, indent=2) + '\n'), mode='w')
    if args.out_restored:
        write_restored(args.out_restored, result)
    if args.vis:
        edges = skeleton_edges(seq.num_joints, _graph_layout(cfg))
        title = osp.basename(args.input.rstrip('/'))
        if names is not None:
            title += f': {info["pred_name"]} ({info["top5"][0]["score"]:.2f})'
        draw_restored_sequence(
            result.restored_keypoint, result.frame_valid,
            result.restored_mask, args.vis, edges, title,
            y_down=layout.coord_dims == 2, fps=args.fps)
    for path in outputs:
        print(f'wrote {path}')


def _ann_file(cfg):
    dataset = (cfg.get('test_dataloader') or {}).get('dataset') or {}
    while 'ann_file' not in dataset and 'dataset' in dataset:
        dataset = dataset['dataset']
    return dataset.get('ann_file', cfg.get('ann_file'))


def _graph_layout(cfg):
    graph = ((cfg.model.get('backbone') or {}).get('graph_cfg') or {})
    return graph.get('layout')


if __name__ == '__main__':
    from finetec_mmaction.datasets.readers import PoseFileError
    from finetec_mmaction.utils import CheckpointMismatchError
    try:
        sys.exit(main())
    except (PoseFileError, CheckpointMismatchError, FileNotFoundError,
            ValueError) as err:
        # the input, the checkpoint or an option is wrong: say so, briefly
        sys.exit(f'error: {err}')
