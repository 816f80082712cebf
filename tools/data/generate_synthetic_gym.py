"""Write a small synthetic dataset in the Gym288-skeleton pickle format.

Example::

    python tools/data/generate_synthetic_gym.py \
        --out data/synthetic/gym_synthetic.pkl --num-classes 12

See :mod:`finetec_mmaction.datasets.synthetic` for what the classes are.
"""
import argparse
from collections import Counter

from finetec_mmaction.datasets.synthetic import (SYNTHETIC_GYM_MAX_CLASSES,
                                                 synthetic_class_spec,
                                                 write_synthetic_gym)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Generate a synthetic Gym288-format skeleton dataset '
        'whose classes differ in fine temporal detail.')
    parser.add_argument(
        '--out',
        default='data/synthetic/gym_synthetic.pkl',
        help='output pickle (written atomically)')
    parser.add_argument(
        '--num-classes',
        type=int,
        default=12,
        help=f'number of classes (at most {SYNTHETIC_GYM_MAX_CLASSES})')
    parser.add_argument(
        '--train-per-class', type=int, default=60,
        help='training samples per class')
    parser.add_argument(
        '--test-per-class', type=int, default=20,
        help='test samples per class')
    parser.add_argument(
        '--min-frames', type=int, default=24, help='shortest sequence')
    parser.add_argument(
        '--max-frames', type=int, default=72, help='longest sequence')
    parser.add_argument(
        '--flight', type=float, nargs=2, default=(0.5, 0.6),
        metavar=('LOW', 'HIGH'),
        help='range of the fraction of a sequence spent in the air, where '
        'the classes differ')
    parser.add_argument('--seed', type=int, default=0, help='random seed')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    data = write_synthetic_gym(
        args.out,
        num_classes=args.num_classes,
        train_per_class=args.train_per_class,
        test_per_class=args.test_per_class,
        min_frames=args.min_frames,
        max_frames=args.max_frames,
        flight=tuple(args.flight),
        seed=args.seed)
    lengths = [a['total_frames'] for a in data['annotations']]
    per_class = Counter(a['label'] for a in data['annotations'])
    print(f'Wrote {args.out}: {len(data["annotations"])} samples '
          f'(train {len(data["split"]["train"])}, '
          f'test {len(data["split"]["test"])}), '
          f'{args.num_classes} classes, T {min(lengths)}-{max(lengths)} '
          f'(mean {sum(lengths) / len(lengths):.1f}), seed {args.seed}.')
    for label in sorted(per_class):
        print(f'  {label:3d} {synthetic_class_spec(label)["name"]:<32s} '
              f'{per_class[label]} samples')


if __name__ == '__main__':
    main()
