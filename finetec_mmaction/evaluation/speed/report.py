"""The speed benchmark's results as a text table."""
from typing import Dict

from ...utils.table import render_table


def format_speed(results: Dict) -> str:
    """The benchmark as a table."""
    meta = results['meta']
    header = ['model', 'train ms (p25-p75)', 'train samples/s',
              'infer ms (p25-p75)', 'infer samples/s', 'step mem train',
              'step mem infer', 'weights+optim', 'params']
    rows = []

    def mem(v):
        return 'n/a' if v is None else f'{v:.1f} MiB'

    for key in ('stgcnpp', 'finetec'):
        m = results['models'][key]
        rows.append([
            m['name'],
            f"{m['train']['median_ms']:.1f} ({m['train']['p25_ms']:.0f}-"
            f"{m['train']['p75_ms']:.0f})",
            f"{m['train']['samples_per_s']:.1f}",
            f"{m['infer']['median_ms']:.1f} ({m['infer']['p25_ms']:.0f}-"
            f"{m['infer']['p75_ms']:.0f})",
            f"{m['infer']['samples_per_s']:.1f}",
            mem(m['train']['peak_mem_mb']), mem(m['infer']['peak_mem_mb']),
            f"{m['state_mb']:.1f} MiB",
            f"{m['params'] / 1e6:.3g}M ({m['trainable'] / 1e6:.3g}M "
            'trainable)' 
        ])
    ratio = results['ratio']
    lines = [
        f"{meta['device_name']} ({meta['device']}, {meta['threads']} torch "
        f"threads), torch {meta['torch']}; batch {meta['batch_size']}, "
        f"clip {meta['clip_len']}, {meta['num_clips']} clip(s), "
        f"{meta['layout']}, {meta['num_person']} person, "
        f"{meta['missing_ratio']:.0%} frames missing; {meta['iters']} timed "
        f"iterations after {meta['warmup']} warm-up, models alternating"
        f"{'; AMP (bfloat16)' if meta['amp'] else ''}"
        f"{'; torch.compile' if meta['compile'] else ''}"
        + (f"; 1-min load average {meta['loadavg_1min'][0]} -> "
           f"{meta['loadavg_1min'][1]}" if meta['loadavg_1min'][0] is not None
           else ''),
        render_table(header, rows),
        f"FineTec / ST-GCN++ median time: train {ratio['train']:.2f}x, "
        f"inference {ratio['infer']:.2f}x",
        f"step mem = peak memory of a step: {meta['memory_method']}"
    ]
    for key, modes in results.get('breakdown', {}).items():
        names = list(modes['train'])
        lines += [
            '', f"{results['models'][key]['name']}: forward ms per module "
            '(median; backward not split)',
            render_table(['mode'] + names, [[mode] + [
                f'{modes[mode].get(n, float("nan")):.1f}' for n in names
            ] for mode in ('train', 'infer')])
        ]
    return '\n'.join(lines)
