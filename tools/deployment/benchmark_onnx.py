# CPU latency per clip of a recognizer in PyTorch and of its ONNX export in
# onnxruntime, on the same inputs and the same number of threads.
#
#   python tools/deployment/benchmark_onnx.py CONFIG CHECKPOINT model.onnx \
#       [--num-clips 20] [--threads 1]
#
# The ONNX file comes from tools/deployment/export_onnx.py (batch size 1).
import argparse
import json
import sys

import finetec_mmaction  # noqa: F401  (compat fixes + registration first)
from mmengine.config import DictAction


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='CPU latency per clip: PyTorch vs onnxruntime')
    parser.add_argument('config', help='model config')
    parser.add_argument('checkpoint', help='checkpoint file or work dir')
    parser.add_argument('onnx', help='the exported .onnx (batch size 1)')
    parser.add_argument('--num-clips', type=int, default=20,
                        help='timed clips (after 2 warm-up runs)')
    parser.add_argument('--threads', type=int, default=1,
                        help='CPU threads of both runtimes (default 1)')
    parser.add_argument(
        '--test-set', action='store_true',
        help='time clips of the config\'s test set instead of generated ones')
    parser.add_argument('--out-json', help='write the numbers here')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override settings of the config, key=value')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    import platform

    import torch

    from finetec_mmaction.apis.inference import (init_recognizer,
                                                 config_test_pipeline)
    from finetec_mmaction.deployment import (benchmark_latency,
                                             example_input, input_shape,
                                             onnx_session, dataset_inputs)
    from finetec_mmaction.utils.io import atomic_write
    torch.set_num_threads(args.threads)
    model = init_recognizer(args.config, args.checkpoint, 'cpu',
                            args.cfg_options)
    session = onnx_session(args.onnx, threads=args.threads)
    shape = tuple(session.get_inputs()[0].shape)
    if any(not isinstance(d, int) for d in shape):
        shape = input_shape(model, config_test_pipeline(model.cfg))
    total = args.num_clips + 2
    if args.test_set:
        inputs = list(dataset_inputs(model.cfg, total, shape[0]))
    else:
        inputs = [example_input(shape, seed=i) for i in range(total)]
    result = benchmark_latency(model, session, inputs)  # s/clip
    result.update(config=args.config, onnx=args.onnx, threads=args.threads,
                  input_shape=list(shape), num_clips=len(inputs) - 2,
                  cpu=platform.processor() or platform.machine(),
                  versions=dict(
                      torch=torch.__version__,
                      onnxruntime=__import__('onnxruntime').__version__))
    print(f'{type(model).__name__}, inputs {shape}, {args.threads} CPU '
          f'thread(s), median of {len(inputs) - 2} clips: PyTorch '
          f'{result["pytorch"] * 1e3:.1f} ms/clip, onnxruntime '
          f'{result["onnxruntime"] * 1e3:.1f} ms/clip')
    if args.out_json:
        atomic_write(args.out_json, lambda f: f.write(
            json.dumps(result, indent=2) + '\n'), mode='w')
    return 0


if __name__ == '__main__':
    sys.exit(main())
