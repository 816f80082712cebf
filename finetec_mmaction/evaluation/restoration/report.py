"""The restoration benchmark's results as text tables, CSV rows and files."""
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

from ...datasets.splits import describe_split
from ...utils.io import dump_csv, dump_json
from ...utils.table import format_number, render_table
from .benchmark import ERROR_NAMES, METHOD_LABELS


def format_tables(results: Dict) -> str:
    """Method rows × ``strategy@ratio`` columns: the three errors, the
    completion / interpolation ratio, and the classifier's accuracy."""
    meta = results['meta']
    spec = meta['spec']
    names = [s['name'] for s in results['settings']]
    methods = meta['methods']
    joints = spec['joints']
    out = [f"{meta['num_samples']} samples of {spec['ann_file']} "
           f"[{describe_split(spec['split'])}], clip_len {spec['clip_len']}, "
           f"{'all' if joints is None else len(joints)} joints, errors over "
           'missing frames in normalised coordinates']
    missing = ['missing frames'] + [
        f"{s['missing_fraction']:.3f}" for s in results['settings']
    ]
    for key, title in ERROR_NAMES:
        rows = [[METHOD_LABELS[m]] + [
            format_number(results['restoration'][n][m][key]) for n in names
        ] for m in methods]
        if 'completion_over_linear' in results:
            rows.append(['completion / interp'] + [
                format_number(results['completion_over_linear'][n][key], 3)
                for n in names
            ])
        if key == 'mpjpe' and 'completion_over_best_fill' in results:
            rows.append(['completion / min(interp, Akima)'] + [
                format_number(results['completion_over_best_fill'][n], 3)
                for n in names
            ])
            if 'best_fill_interval' in results:
                rows.append(['  95 % bootstrap interval'] + [
                    _interval(results['best_fill_interval'][n])
                    for n in names
                ])
            rows.append(['clips worse than interp'] + [
                format_number(results['share_worse_than_linear'][n], 3)
                for n in names
            ])
        if key == 'mpjpe':
            rows.append(missing)
        out += ['', render_table([title] + names, rows)]
    if results.get('classification'):
        cls = results['classification']
        clean = cls['clean']
        rows = [[METHOD_LABELS[m]] + [
            f"{format_number(cls[n][m]['top1'], 3)} / "
            f"{format_number(cls[n][m]['mean_class_acc'], 3)}" for n in names
        ] for m in methods]
        out += [
            '', f"Classifier top-1 / mean class accuracy "
            f"(clean: {clean['top1']:.3f} / {clean['mean_class_acc']:.3f})",
            render_table(['restoration'] + names, rows)
        ]
    return '\n'.join(out)


def _interval(ci: Dict) -> str:
    return f"{format_number(ci['low'], 3)}-{format_number(ci['high'], 3)}"


CSV_FIELDS = ('strategy', 'ratio', 'method', 'mpjpe', 'n_mpjpe', 'mpjve',
              'completion_over_linear_mpjpe', 'completion_over_best_fill',
              'best_fill_low', 'best_fill_high', 'share_worse_than_linear',
              'top1', 'mean_class_acc', 'num_samples')


def results_to_rows(results: Dict) -> List[Dict]:
    """One row per ``strategy × ratio × method`` (plus ``clean`` for the
    classifier), columns :data:`CSV_FIELDS`."""
    rows = []
    cls = results.get('classification') or {}
    if cls:
        rows.append(dict(strategy='clean', ratio=0.0, method='none',
                         top1=cls['clean']['top1'],
                         mean_class_acc=cls['clean']['mean_class_acc'],
                         num_samples=cls['clean']['num_samples']))
    for setting in results['settings']:
        name = setting['name']
        for method, errors in results['restoration'][name].items():
            row = dict(strategy=setting['strategy'], ratio=setting['ratio'],
                       method=method,
                       num_samples=results['meta']['num_samples'], **errors)
            if method == 'completion':
                row['completion_over_linear_mpjpe'] = \
                    results['completion_over_linear'][name]['mpjpe']
                row['completion_over_best_fill'] = \
                    results['completion_over_best_fill'][name]
                row['share_worse_than_linear'] = \
                    results['share_worse_than_linear'][name]
                interval = results.get('best_fill_interval', {}).get(name)
                if interval is not None:
                    row.update(best_fill_low=interval['low'],
                               best_fill_high=interval['high'])
            if cls:
                row.update(top1=cls[name][method]['top1'],
                           mean_class_acc=cls[name][method]['mean_class_acc'])
            rows.append(row)
    return rows


def write_results(results: Dict,
                  out_dir: str,
                  stem: str = 'completion_benchmark',
                  rows: Optional[List[Dict]] = None,
                  fields: Sequence[str] = CSV_FIELDS) -> Tuple[str, str]:
    """Write ``{stem}.json`` (``results``) and ``{stem}.csv`` (``rows``,
    columns ``fields``; default: :func:`results_to_rows` of a restoration
    benchmark) into ``out_dir`` atomically; returns their paths."""
    json_path = osp.join(out_dir, f'{stem}.json')
    csv_path = osp.join(out_dir, f'{stem}.csv')
    dump_json(json_path, results)
    dump_csv(csv_path, results_to_rows(results) if rows is None else rows,
             fields)
    return json_path, csv_path
