"""Pictures of skeleton sequences (not imported by ``import
finetec_mmaction``; matplotlib is loaded on use)."""
from .restored_skeleton import (VIS_FORMATS, check_vis_path,
                                draw_restored_sequence, skeleton_edges)

__all__ = ['VIS_FORMATS', 'check_vis_path', 'draw_restored_sequence',
           'skeleton_edges']
