"""Figures of the benchmarks (matplotlib, imported when drawing)."""
from .completion_strip import (COCO17_EDGES, draw_completion_strip,
                               select_frames)
from .sweep_plot import plot_sweep

__all__ = ['COCO17_EDGES', 'draw_completion_strip', 'plot_sweep',
           'select_frames']
