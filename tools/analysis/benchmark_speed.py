"""Speed of FineTec stage 2 beside a stock ST-GCN++ (same batch size, clip
length and layout: COCO-17, one person), in one process.

Times training steps (``train_step``: forward, loss, backward, optimizer
step) and inference steps (``test_step`` under ``no_grad``) of both models
on the same synthetic batch, alternating the models every iteration, and
reports the median milliseconds per step, samples/s, FineTec / ST-GCN++
ratios and peak memory, as a table and JSON. The FineTec completion module
is randomly initialised (no stage-1 checkpoint needed) and frozen, as in
stage 2.

Examples::

    python tools/analysis/benchmark_speed.py                     # CPU
    python tools/analysis/benchmark_speed.py --device cuda --amp  # GPU, bf16
    python tools/analysis/benchmark_speed.py --cpu-memory --out speed.json
"""
import argparse
import sys

import torch

import finetec_mmaction  # noqa: F401  (compat fixes + registration first)
from finetec_mmaction.evaluation.speed import (DEFAULT_BASELINE_CONFIG,
                                               DEFAULT_FINETEC_CONFIG,
                                               format_speed,
                                               run_speed_benchmark)
from finetec_mmaction.utils.io import dump_json
from mmengine.config import Config, DictAction


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Training and inference speed of FineTec (stage 2) '
        'vs stock ST-GCN++.')
    parser.add_argument('--finetec-config', default=DEFAULT_FINETEC_CONFIG)
    parser.add_argument('--baseline-config', default=DEFAULT_BASELINE_CONFIG)
    parser.add_argument('--completion-checkpoint',
                        help='stage-1 checkpoint or work dir (default: a '
                        'randomly initialised, frozen completion module)')
    parser.add_argument('--batch-size', type=int, default=16)
    parser.add_argument('--clip-len', type=int, default=100)
    parser.add_argument('--num-clips', type=int, default=1,
                        help='clips per sample in the inference step')
    parser.add_argument('--missing-ratio', type=float, default=0.5)
    parser.add_argument('--iters', type=int, default=10,
                        help='timed iterations (each: one train and one '
                        'inference step per model)')
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument('--device', default='cpu', help='cpu or cuda')
    parser.add_argument('--threads', type=int,
                        help='torch CPU threads (default: torch\'s)')
    parser.add_argument('--amp', action='store_true',
                        help='mixed precision (bfloat16 autocast; float16 '
                        'with loss scaling on GPUs without bfloat16)')
    parser.add_argument('--compile', action='store_true',
                        help='torch.compile train_step and test_step (the '
                        'warm-up iterations include the compilation)')
    parser.add_argument('--cpu-memory', action='store_true',
                        help='on CPU, measure the peak RSS growth of each '
                        'model in a child process (slower)')
    parser.add_argument('--breakdown', action='store_true',
                        help='also time the forward pass of each module '
                        '(completion, decomposition, neck, backbone, head)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings of both configs')
    parser.add_argument('--out', help='write the results as JSON here')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    cfgs = []
    for path in (args.finetec_config, args.baseline_config):
        cfg = Config.fromfile(path)
        if args.cfg_options:
            cfg.merge_from_dict(args.cfg_options)
        cfgs.append(cfg)
    results = run_speed_benchmark(
        *cfgs,
        batch_size=args.batch_size,
        clip_len=args.clip_len,
        iters=args.iters,
        warmup=args.warmup,
        device=args.device,
        amp=args.amp,
        compile=args.compile,
        missing_ratio=args.missing_ratio,
        num_clips=args.num_clips,
        completion_checkpoint=args.completion_checkpoint,
        cpu_memory=args.cpu_memory,
        breakdown=args.breakdown,
        seed=args.seed,
        progress=True)
    print(format_speed(results))
    if args.out:
        dump_json(args.out, results)
        print(f'wrote {args.out}')
    return results


if __name__ == '__main__':
    main(sys.argv[1:])
