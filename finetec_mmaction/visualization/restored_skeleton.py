"""Pictures of a restored skeleton sequence: observed frames and restored
frames drawn differently (observed: solid blue; restored: dashed red).

:func:`draw_restored_sequence` writes, by the file's extension, an
animation (``.gif`` with Pillow, ``.mp4`` with ffmpeg when it is installed)
or a strip of frames (``.png``). Files are written atomically.
"""
import os.path as osp
from typing import List, Sequence, Tuple

import numpy as np

from ..utils.io import atomic_path, atomic_write

__all__ = ['VIS_FORMATS', 'skeleton_edges', 'check_vis_path',
           'draw_restored_sequence']

#: Extensions of :func:`draw_restored_sequence`.
VIS_FORMATS = ('.gif', '.mp4', '.png')
_COLOURS = dict(observed='tab:blue', restored='tab:red')
_LAYOUT_OF_JOINTS = {17: 'coco', 25: 'nturgb+d', 18: 'openpose'}


def skeleton_edges(num_joints: int,
                   layout=None) -> List[Tuple[int, int]]:
    """Bones to draw: those of MMAction2's graph ``layout`` (a name or a
    ``dict(num_node, inward, center)``), else of the known layout with
    ``num_joints`` joints, else none (joints only)."""
    from mmaction.models.utils import Graph
    layout = layout or _LAYOUT_OF_JOINTS.get(num_joints)
    if layout is None:
        return []
    try:
        graph = Graph(layout=layout, mode='spatial')
    except (ValueError, KeyError, TypeError, AssertionError):
        return []
    if graph.num_node != num_joints:
        return []
    return [(int(a), int(b)) for a, b in graph.inward]


def check_vis_path(path: str) -> str:
    """The format of ``path`` (its extension), or a ``ValueError`` /
    ``RuntimeError`` saying why it cannot be written (checked before any
    work is done)."""
    ext = osp.splitext(path)[1].lower()
    if ext not in VIS_FORMATS:
        raise ValueError(f'{path}: the picture must be one of '
                         f'{", ".join(VIS_FORMATS)} (animation or strip).')
    if ext == '.mp4':
        from matplotlib import animation
        if not animation.writers.is_available('ffmpeg'):
            raise RuntimeError(
                f'{path}: writing MP4 needs ffmpeg, which is not installed '
                'here (not on PATH); write a .gif (Pillow) or a .png strip '
                'instead, or install ffmpeg.')
    return ext


def _limits(points: np.ndarray) -> Tuple[np.ndarray, float]:
    points = points[np.isfinite(points).all(-1)]
    if not len(points):
        return np.zeros(2), 1.0
    lo, hi = points.min(0), points.max(0)
    return (lo + hi) / 2, max(float((hi - lo).max()) / 2 * 1.1, 1e-3)


def _draw_pose(ax, pose, edges, restored: bool) -> None:
    colour = _COLOURS['restored' if restored else 'observed']
    style = '--' if restored else '-'
    for a, b in edges:
        ax.plot(pose[[a, b], 0], pose[[a, b], 1], style, color=colour,
                linewidth=1.6)
    ax.scatter(pose[:, 0], pose[:, 1], s=10, zorder=3,
               facecolors='none' if restored else colour, edgecolors=colour)


class _Canvas:
    """One figure, redrawn for each frame of the sequence."""

    def __init__(self, keypoint, frame_valid, restored_mask, edges, title,
                 y_down, size=3.2, dpi=80) -> None:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        self.keypoint = np.asarray(keypoint, np.float64)[..., :2]
        self.valid = np.asarray(frame_valid, bool)
        self.restored = np.asarray(restored_mask, bool)
        self.edges, self.title, self.y_down = edges, title, y_down
        self.centre, self.half = _limits(self.keypoint.reshape(-1, 2))
        self.fig = Figure(figsize=(size, size + 0.3), dpi=dpi)
        FigureCanvasAgg(self.fig)
        self.ax = self.fig.add_axes([0.02, 0.02, 0.96, 0.86])

    def frame_label(self, t: int) -> str:
        if self.restored[:, t].any():
            return 'restored'
        return 'observed' if self.valid[:, t].any() else 'missing'

    def draw_frame(self, ax, t: int) -> None:
        ax.cla()
        ax.set_xticks([])
        ax.set_yticks([])
        c, h = self.centre, self.half
        ax.set_xlim(c[0] - h, c[0] + h)
        ax.set_ylim((c[1] + h, c[1] - h) if self.y_down else
                    (c[1] - h, c[1] + h))
        ax.set_aspect('equal')
        for m in range(len(self.keypoint)):
            if self.valid[m, t] or self.restored[m, t]:
                _draw_pose(ax, self.keypoint[m, t], self.edges,
                           restored=not self.valid[m, t])
        label = self.frame_label(t)
        if label == 'missing':
            ax.text(0.5, 0.5, 'missing (not restored)',
                    transform=ax.transAxes, ha='center', color='0.4')
        ax.set_title(f'frame {t}: {label}', fontsize=8,
                     color=_COLOURS.get(label, '0.3'))

    def render(self, t: int) -> np.ndarray:
        self.draw_frame(self.ax, t)
        self.fig.suptitle(self.title, fontsize=8)
        self.fig.canvas.draw()
        return np.asarray(self.fig.canvas.buffer_rgba())[..., :3].copy()


def _write_gif(canvas: _Canvas, frames: Sequence[int], out_file: str,
               fps: float) -> None:
    from PIL import Image
    images = [Image.fromarray(canvas.render(t)).quantize(colors=64)
              for t in frames]
    atomic_write(out_file, lambda f: images[0].save(
        f, format='GIF', save_all=True, append_images=images[1:],
        duration=int(round(1000 / fps)), loop=0))


def _write_mp4(canvas: _Canvas, frames: Sequence[int], out_file: str,
               fps: float) -> None:
    from matplotlib.animation import FFMpegWriter
    writer = FFMpegWriter(fps=fps)
    with atomic_path(out_file, suffix='.mp4') as tmp, \
            writer.saving(canvas.fig, tmp, dpi=canvas.fig.dpi):
        for t in frames:
            canvas.render(t)
            writer.grab_frame()


def _write_strip(canvas: _Canvas, frames: Sequence[int], out_file: str,
                 panel: float = 1.8, dpi: int = 100) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    fig = Figure(figsize=(panel * len(frames), panel + 0.8), dpi=dpi)
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, len(frames), squeeze=False)[0]
    for ax, t in zip(axes, frames):
        canvas.draw_frame(ax, t)
    fig.legend(handles=[
        Line2D([], [], color=_COLOURS['observed'], label='observed'),
        Line2D([], [], color=_COLOURS['restored'], linestyle='--',
               label='restored (missing frame)')
    ], loc='lower center', ncol=2, fontsize=8, frameon=False)
    fig.suptitle(canvas.title, fontsize=9)
    fig.subplots_adjust(left=0.02, right=0.98, top=0.8, bottom=0.15,
                        wspace=0.05)
    atomic_write(out_file, lambda f: fig.savefig(f, format='png', dpi=dpi))


def draw_restored_sequence(keypoint: np.ndarray,
                           frame_valid: np.ndarray,
                           restored_mask: np.ndarray,
                           out_file: str,
                           edges: Sequence[Tuple[int, int]] = (),
                           title: str = '',
                           y_down: bool = True,
                           fps: float = 10.0,
                           max_frames: int = 300,
                           strip_frames: int = 8) -> str:
    """Draw a restored sequence.

    Args:
        keypoint (np.ndarray): ``(M, T, V, C)`` restored sequence (NaN where
            nothing is known); the first two channels are drawn.
        frame_valid (np.ndarray): ``(M, T)`` bool, observed frames.
        restored_mask (np.ndarray): ``(M, T)`` bool, restored frames.
        out_file (str): ``.gif``, ``.mp4`` or ``.png`` (strip).
        edges (Sequence[tuple]): Bones (:func:`skeleton_edges`).
        title (str): Figure title.
        y_down (bool): Image coordinates (y grows downwards, 2D); ``False``
            for 3D data with y up.
        fps (float): Animation speed.
        max_frames (int): An animation shows at most this many frames,
            evenly spread (a long video would make a huge GIF).
        strip_frames (int): Frames of a strip: mostly restored ones, evenly
            spread, and some observed ones for context.

    Returns:
        str: ``out_file``.
    """
    ext = check_vis_path(out_file)
    canvas = _Canvas(keypoint, frame_valid, restored_mask, list(edges),
                     title, y_down)
    num_frames = canvas.keypoint.shape[1]
    if ext == '.png':
        from .completion_strip import select_frames
        frames = select_frames(~canvas.restored.any(0), strip_frames)
        _write_strip(canvas, [int(t) for t in frames], out_file)
        return out_file
    frames = np.unique(np.linspace(0, num_frames - 1,
                                   min(num_frames, max_frames)).round()
                       ).astype(int).tolist()
    if ext == '.gif':
        _write_gif(canvas, frames, out_file, fps)
    else:
        _write_mp4(canvas, frames, out_file, fps)
    return out_file
