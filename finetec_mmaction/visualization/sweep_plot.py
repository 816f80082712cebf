"""Accuracy against missing ratio, the plot of a corruption sweep."""
from typing import Dict

from ..utils.io import atomic_write


def plot_sweep(results: Dict, out_file: str, metric: str = 'top1',
               dpi: int = 100) -> str:
    """Accuracy vs missing ratio: one subplot per strategy, one line per
    model. Written atomically as PNG."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    meta = results['meta']
    strategies = meta['strategies']
    fig = Figure(figsize=(3.6 * len(strategies) + 0.4, 3.6), dpi=dpi)
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, len(strategies), squeeze=False, sharey=True)[0]
    for ax, strategy in zip(axes, strategies):
        for model in meta['models']:
            points = sorted((r['ratio'], r[metric]) for r in results['rows']
                            if r['model'] == model['name']
                            and r['strategy'] == strategy)
            if points:
                xs, ys = zip(*points)
                ax.plot(xs, ys, marker='o', label=model['name'])
        ax.set_title(strategy)
        ax.set_xlabel('missing ratio')
        ax.set_xlim(-0.02, 1.0)
        ax.set_ylim(-0.02, 1.02)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel({'top1': 'top-1', 'top5': 'top-5'}.get(
        metric, metric.replace('_', ' ')))
    axes[-1].legend(fontsize=8, loc='best')
    fig.tight_layout()
    atomic_write(out_file, lambda f: fig.savefig(f, format='png', dpi=dpi))
    return out_file
