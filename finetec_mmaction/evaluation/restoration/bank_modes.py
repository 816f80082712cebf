"""Banks that stand in for unseen data in the restoration benchmark.

The training-free restoration retrieves from a bank of training sequences.
How it fares on data unlike its bank -- other movements, fewer sequences --
is checked by building the bank differently from the config:

* ``class-disjoint``: the bank from some classes of the training split
  (by default the lower half of its labels), the evaluated clips from the
  others: every clip shows a movement the bank does not hold;
* ``small``: a seeded random subset of ``size`` training sequences.

Each of them can be a *validation* check (:func:`apply_holdout`): the bank
from the training split less a carved holdout, the evaluated clips from the
holdout, so that settings are chosen without the test split.
"""
from typing import Dict, List, Optional, Sequence, Tuple

from ...datasets.safe_pickle import safe_load_pickle
from ...datasets.splits import describe_split, holdout_split
from ...datasets.validation import select_split

BANK_MODES = ('config', 'class-disjoint', 'small')


def bank_labels(bank_cfg: Dict) -> List[int]:
    """The sorted labels of the split a bank config is built from."""
    annotations, _ = select_split(
        safe_load_pickle(bank_cfg['ann_file']), bank_cfg.get('split', 'train'),
        bank_cfg['ann_file'])
    return sorted({int(a['label']) for a in annotations})


def _bank_config(cfg, what: str) -> Dict:
    completion = cfg.model.get('completion') or {}
    bank = completion.get('bank')
    if not isinstance(bank, dict) or 'ann_file' not in bank:
        raise ValueError(
            f'{cfg.filename}: {what} rebuilds the bank from its annotations, '
            f'but model.completion.bank is not a dict with ann_file (got '
            f'{bank!r}).')
    # never overwrite the config's cached bank with a stand-in
    return dict(bank, cache=None)


def apply_holdout(cfg, spec, fraction: float, seed: int = 0,
                  group: Optional[str] = None) -> Dict:
    """Make the benchmark a validation check, in place: the bank from the
    bank's split less a holdout (:mod:`~finetec_mmaction.datasets.splits`,
    stratified by class, or by ``group`` of ``frame_dir``), the evaluated
    clips (``spec``) from the holdout of the same file. Call before
    :func:`apply_bank_mode`, which then narrows the bank further.

    Returns:
        dict: a description for the results' ``meta``.
    """
    bank = _bank_config(cfg, '--holdout')
    split = bank.get('split', 'train')
    if not isinstance(split, str):
        raise ValueError(f'{cfg.filename}: --holdout carves the bank\'s '
                         f'split, which is already {split!r}.')
    bank['split'] = holdout_split(split, fraction, seed, 'train', group)
    cfg.model.completion.bank = bank
    spec.ann_file = bank['ann_file']
    spec.split = holdout_split(split, fraction, seed, 'holdout', group)
    return dict(holdout=describe_split(spec.split),
                bank_split=describe_split(bank['split']))


def apply_bank_mode(cfg,
                    mode: str = 'config',
                    size: int = 300,
                    bank_classes: Optional[Sequence[int]] = None
                    ) -> Tuple[Optional[List[int]], Dict]:
    """Rebuild ``cfg.model.completion.bank`` (in place) for ``mode``.

    Returns:
        tuple: the labels to evaluate (``None``: all) and a description of
        the bank for the results' ``meta``.
    """
    if mode not in BANK_MODES:
        raise ValueError(f'bank mode must be one of {BANK_MODES}, got '
                         f'{mode!r}.')
    if mode == 'config':
        return None, dict(bank_mode=mode)
    bank = _bank_config(cfg, f'--bank-mode {mode}')
    if mode == 'small':
        if size < 1:
            raise ValueError(f'--bank-size must be >= 1, got {size}.')
        bank['max_size'] = int(size)
        cfg.model.completion.bank = bank
        return None, dict(bank_mode=mode, bank_size=int(size))
    labels = bank_labels(bank)
    if bank_classes is None:
        bank_classes = labels[:len(labels) // 2]
    bank_classes = sorted(int(c) for c in bank_classes)
    others = [c for c in labels if c not in bank_classes]
    if not bank_classes or not others:
        raise ValueError(
            f'A class-disjoint bank needs classes on both sides: bank '
            f'{bank_classes}, evaluated {others} (labels {labels}).')
    bank['classes'] = bank_classes
    cfg.model.completion.bank = bank
    return others, dict(bank_mode=mode, bank_classes=bank_classes,
                        eval_classes=others)
