"""Pictures of skeleton sequences and figures of the benchmarks (not
imported by ``import finetec_mmaction``; matplotlib is loaded on use)."""
from .completion_strip import (COCO17_EDGES, draw_completion_strip,
                               select_frames)
from .restored_skeleton import (VIS_FORMATS, check_vis_path,
                                draw_restored_sequence, skeleton_edges)
from .sweep_plot import plot_sweep

__all__ = ['COCO17_EDGES', 'VIS_FORMATS', 'check_vis_path',
           'draw_completion_strip', 'draw_restored_sequence', 'plot_sweep',
           'select_frames', 'skeleton_edges']
