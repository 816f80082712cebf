"""Put another skeleton bank into a trained checkpoint.

The completion module ① keeps its skeleton bank in its state dict
(``completion.bank.sequences``), so a checkpoint carries the bank it was
trained with. This writes a copy of a checkpoint whose bank is replaced by a
bank file (``SkeletonBank.save``, e.g. the cache a config builds under
``work_dirs/banks/``), everything else unchanged: for instance to give a
FineTec checkpoint trained with the old stretched bank
(``frame_sampling='resample'``) the clip-matched one, or a bank of more data.

The new bank must have the same clip length, joints and channels; its size
may differ. The bank is also ①'s prior (its mean sequence) and the source of
its prompts, which change with it.

Example::

    python tools/misc/replace_checkpoint_bank.py \\
        work_dirs/cpu_benchmark/finetec/epoch_6.pth \\
        work_dirs/banks/pennaction_train_u48.npz \\
        work_dirs/finetec_uniformbank/epoch_6.pth
"""
import argparse
import os.path as osp
from typing import Dict

import finetec_mmaction  # noqa: F401  (compat fixes + registration first)
import torch
from finetec_mmaction.models.completion.bank import SkeletonBank
from finetec_mmaction.utils.io import atomic_write, resolve_checkpoint
from mmengine.runner.checkpoint import _load_checkpoint

BANK_SUFFIX = 'bank.sequences'


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Write a copy of a checkpoint with another skeleton '
        'bank in its completion module.')
    parser.add_argument('checkpoint',
                        help='checkpoint file, or a work dir (its '
                        'last_checkpoint)')
    parser.add_argument('bank', help='bank file (.npz / .pt / .pth)')
    parser.add_argument('out', help='checkpoint file to write')
    return parser.parse_args(argv)


def replace_bank(checkpoint: Dict, sequences: torch.Tensor,
                 source: str = 'checkpoint') -> Dict[str, tuple]:
    """Replace every ``*bank.sequences`` tensor of ``checkpoint`` in place.

    Args:
        checkpoint (dict): A loaded checkpoint (with ``state_dict``) or a
            bare state dict.
        sequences (torch.Tensor): ``(N', T, K, C)`` new bank.
        source (str): Names the checkpoint in errors.

    Returns:
        dict: ``{key: (old shape, new shape)}`` of what was replaced.
    """
    state = checkpoint.get('state_dict', checkpoint)
    keys = [k for k in state if k.endswith(BANK_SUFFIX)]
    if not keys:
        raise KeyError(f'{source} has no "*{BANK_SUFFIX}" entry: is it a '
                       'checkpoint of a model with a completion module?')
    replaced = {}
    for key in keys:
        old = state[key]
        if old.dim() == 4 and tuple(old.shape[1:]) != tuple(
                sequences.shape[1:]):
            raise ValueError(
                f'{source}: {key} holds sequences of (T, K, C) = '
                f'{tuple(old.shape[1:])}, the new bank '
                f'{tuple(sequences.shape[1:])}; a bank must match the '
                'clip length and layout of the model.')
        state[key] = sequences.to(old.dtype).clone()
        replaced[key] = (tuple(old.shape), tuple(sequences.shape))
    return replaced


def main(argv=None):
    args = parse_args(argv)
    path = resolve_checkpoint(args.checkpoint)
    if not osp.isfile(path):
        raise FileNotFoundError(f'No checkpoint at {args.checkpoint!r}.')
    if osp.abspath(args.out) == osp.abspath(path):
        raise ValueError('Write the new checkpoint to another file than '
                         f'{path}: the original keeps its bank.')
    bank = SkeletonBank.load(args.bank)
    if bank.sequences.dim() != 4 or len(bank) == 0:
        raise ValueError(f'{args.bank} holds no bank sequences '
                         f'(shape {tuple(bank.sequences.shape)}).')
    checkpoint = _load_checkpoint(path, map_location='cpu')
    replaced = replace_bank(checkpoint, bank.sequences, source=path)
    atomic_write(args.out, lambda f: torch.save(checkpoint, f))
    for key, (old, new) in replaced.items():
        print(f'{key}: {old} -> {new}')
    print(f'wrote {args.out}')


if __name__ == '__main__':
    main()
