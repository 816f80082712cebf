# Export a skeleton recognizer (RecognizerFineTec: full FineTec or stock
# ST-GCN++ with the completion module in front; stock RecognizerGCN) to
# ONNX, and check onnxruntime against PyTorch on the config's test clips.
#
#   python tools/deployment/export_onnx.py CONFIG CHECKPOINT --out model.onnx \
#       [--num-frames T] [--num-person M] [--verify 100]
#
# Needs the deploy extra: pip install -e '.[deploy]'.
import argparse
import json
import sys

import finetec_mmaction  # noqa: F401  (compat fixes + registration first)
from mmengine.config import DictAction


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Export a skeleton recognizer to ONNX (input: clips '
        '(N, num_clips, M, T, V, C), output: class scores (N, K))')
    parser.add_argument('config', help='model config')
    parser.add_argument('checkpoint', help='checkpoint file or work dir')
    parser.add_argument('--out', required=True, help='the .onnx file')
    parser.add_argument('--num-frames', type=int,
                        help='T (default: the test pipeline\'s clip_len)')
    parser.add_argument('--num-person', type=int,
                        help='M (default: the test pipeline\'s num_person)')
    parser.add_argument('--batch-size', type=int, default=1,
                        help='N, fixed in the graph (default 1)')
    parser.add_argument('--opset', type=int, default=18)
    parser.add_argument(
        '--no-optimize', action='store_true',
        help='skip the exporter\'s graph optimisation (faster export; '
        'onnxruntime still optimises the graph when it loads it)')
    parser.add_argument(
        '--verify', type=int, default=0, metavar='N',
        help='compare onnxruntime with PyTorch on N clips of the config\'s '
        'test set (its test pipeline, corruption included); 0: on one '
        'generated clip only')
    parser.add_argument('--out-json', help='write the check\'s numbers here')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override settings of the config, key=value')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    from finetec_mmaction.apis.inference import (init_recognizer,
                                                 config_test_pipeline)
    from finetec_mmaction.deployment import (compare_scores, example_input,
                                             export_onnx, input_shape,
                                             onnx_session, dataset_inputs)
    from finetec_mmaction.utils.io import atomic_write
    try:
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401
    except ImportError as err:
        raise SystemExit(f'error: {err.name} is not installed; install the '
                         "deploy extra: pip install -e '.[deploy]'") from None

    model = init_recognizer(args.config, args.checkpoint, 'cpu',
                            args.cfg_options)
    shape = input_shape(model, config_test_pipeline(model.cfg), args.num_frames,
                        args.num_person, args.batch_size)
    print(f'exporting {type(model).__name__} for inputs {shape} ...',
          flush=True)
    export_onnx(model, args.out, shape, args.opset,
                optimize=not args.no_optimize)
    print(f'wrote {args.out}')
    session = onnx_session(args.out)
    if args.verify:
        clips = dataset_inputs(model.cfg, args.verify, args.batch_size)
        what = f'{args.verify} test clips of {args.config}'
    else:
        clips = [example_input(shape, seed=1)]
        what = 'a generated clip'
    check = compare_scores(model, session, clips)
    print(f'onnxruntime vs PyTorch on {check["num_clips"]} input(s) '
          f'({what}): max abs diff of the class scores '
          f'{check["max_abs_diff"]:.3g}, top-1 agreement '
          f'{check["top1_agree"]:.4f}')
    if args.out_json:
        check.update(config=args.config, checkpoint=args.checkpoint,
                     onnx=args.out, input_shape=list(shape))
        atomic_write(args.out_json, lambda f: f.write(
            json.dumps(check, indent=2) + '\n'), mode='w')
    return 0


if __name__ == '__main__':
    sys.exit(main())
