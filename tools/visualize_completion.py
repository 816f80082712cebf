"""Draw the restoration of one corrupted clip in the style of the FineTec
paper's Fig. 5: rows corrupted (missing frames as grey boxes) / restored
(missing frames in another colour) / ground truth, columns evenly spaced
frames of the clip (missing ones preferred).

Examples::

    python tools/visualize_completion.py \
        configs/finetec/completion_1xb64-u100-20k_pennaction-keypoint-2d.py \
        work_dirs/completion_1xb64-u100-20k_pennaction-keypoint-2d \
        --sample 0042 --ratio 0.75 --strategy in-between --out fig5.png
    # without a checkpoint the restored row is linear interpolation
    python tools/visualize_completion.py CONFIG --sample 3
"""
import argparse
import os.path as osp
import re
import sys

import finetec_mmaction  # noqa: F401  (compat fixes + registration first)
from finetec_mmaction.core.masking import parse_ratio
from finetec_mmaction.datasets.subset import find_sample
from finetec_mmaction.evaluation.restoration import (build_eval_dataset,
                                                     eval_spec_from_config,
                                                     load_sample,
                                                     restore_batch)
from finetec_mmaction.models.loading import load_completion
from finetec_mmaction.visualization import (draw_completion_strip,
                                            select_frames)
from mmengine.config import Config


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Draw corrupted / restored / ground-truth skeletons of '
        'one clip.')
    parser.add_argument('config', help='stage-1 (CompletionPretrainer) config')
    parser.add_argument(
        'checkpoint', nargs='?', default=None,
        help='stage-1 checkpoint or its work dir; without it the restored '
        'row is linear interpolation')
    parser.add_argument('--sample', required=True,
                        help='frame_dir of the sample, or its index in the '
                        'split')
    parser.add_argument('--ratio', default='0.75',
                        help='missing ratio (float or level name)')
    parser.add_argument('--strategy', default='in-between')
    parser.add_argument('--frames', type=int, default=8,
                        help='number of frames (columns)')
    parser.add_argument('--person', type=int, default=0)
    parser.add_argument('--split', help="default: the config's test split")
    parser.add_argument('--ann-file', help="default: the config's")
    parser.add_argument('--out', help='PNG file (default: work_dirs/'
                        'completion_vis/<frame_dir>_<strategy>_<ratio>.png)')
    parser.add_argument('--device', default='cpu')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    ratio = parse_ratio(args.ratio)
    cfg = Config.fromfile(args.config)
    spec = eval_spec_from_config(cfg, args.split, args.ann_file)
    dataset = build_eval_dataset(spec, ratio, args.strategy)
    batch = load_sample(dataset, find_sample(dataset, args.sample))
    if args.checkpoint is not None:
        completion = load_completion(cfg, args.checkpoint, args.device)
        restored = restore_batch('completion', batch, completion, args.device)
        how = f'completion ({osp.basename(osp.normpath(args.checkpoint))})'
    else:
        restored = restore_batch('linear', batch)
        how = 'linear interpolation (no checkpoint)'
    person = args.person
    if not 0 <= person < batch['clean'].shape[1]:
        raise IndexError(f'--person {person}: the clip has '
                         f'{batch["clean"].shape[1]} persons.')
    valid = batch['valid'][0]
    frames = select_frames(valid, args.frames)
    frame_dir = str(batch['frame_dirs'][0])
    title = (f'{frame_dir}: {args.strategy}, {ratio:.0%} missing '
             f'({int((~valid).sum())}/{len(valid)} sampled frames); '
             f'restored by {how}')
    out = args.out or osp.join(
        'work_dirs', 'completion_vis',
        re.sub(r'[^\w.-]+', '_', frame_dir) +
        f'_{args.strategy}_{ratio:g}.png')
    draw_completion_strip(
        batch['inputs'][0, person].numpy(), restored[0, person],
        batch['clean'][0, person], valid, frames, out, title=title,
        joints=spec.joints,
        restored_label='restored' if args.checkpoint else 'interpolated')
    print(title)
    print(f'wrote {out}')
    return out


if __name__ == '__main__':
    main(sys.argv[1:])
