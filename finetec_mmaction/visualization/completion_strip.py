"""Fig. 5-style strips of a restored clip: corrupted / restored / ground
truth skeletons over a few frames, missing ones preferred."""
from typing import List, Optional, Sequence

import numpy as np

from ..utils.io import atomic_write

#: COCO-17 limbs (nose-eyes-ears, arms, torso, legs).
COCO17_EDGES = ((0, 1), (0, 2), (1, 3), (2, 4), (5, 6), (5, 7), (7, 9),
                (6, 8), (8, 10), (5, 11), (6, 12), (11, 12), (11, 13),
                (13, 15), (12, 14), (14, 16))


def _evenly(candidates: np.ndarray, num: int) -> List[int]:
    if num <= 0 or not len(candidates):
        return []
    pos = np.linspace(0, len(candidates) - 1, min(num, len(candidates)))
    return [int(candidates[i]) for i in np.unique(pos.round().astype(int))]


def select_frames(valid: np.ndarray, num: int) -> np.ndarray:
    """``num`` frames to show: mostly missing frames, evenly spaced among
    them, plus about a quarter (at least one) observed frames, evenly spaced
    among those, for context. Sorted and unique."""
    valid = np.asarray(valid, dtype=bool)
    num = int(min(max(num, 1), len(valid)))
    missing, observed = np.flatnonzero(~valid), np.flatnonzero(valid)
    num_observed = min(len(observed), max(1, num // 4)) if len(missing) \
        else num
    num_missing = min(len(missing), num - num_observed)
    num_observed = min(len(observed), num - num_missing)
    return np.array(sorted(
        _evenly(missing, num_missing) + _evenly(observed, num_observed)))


def _draw_skeleton(ax, pose, joints, edges, color, marker_size=6):
    for a, b in edges:
        if a in joints and b in joints:
            ax.plot([pose[a, 0], pose[b, 0]], [pose[a, 1], pose[b, 1]],
                    color=color, linewidth=1.6, solid_capstyle='round')
    ax.scatter(pose[joints, 0], pose[joints, 1], s=marker_size, color=color,
               zorder=3)


def draw_completion_strip(corrupted: np.ndarray,
                          restored: np.ndarray,
                          clean: np.ndarray,
                          valid: np.ndarray,
                          frames: Sequence[int],
                          out_file: str,
                          title: str = '',
                          joints: Optional[Sequence[int]] = None,
                          restored_label: str = 'restored',
                          panel_size: float = 1.8,
                          dpi: int = 100) -> str:
    """A Fig. 5-style strip: rows corrupted / restored / ground truth,
    columns ``frames``; missing frames are grey boxes in the first row and
    drawn in another colour in the second. Written atomically as PNG.

    Args:
        corrupted, restored, clean (np.ndarray): ``(T, V, C)`` one person,
            the first two channels are ``(x, y)`` (image orientation).
        valid (np.ndarray): ``(T,)`` bool.
        frames (Sequence[int]): Frames to show.
        joints (Sequence[int], optional): Joints to draw (all by default);
            COCO-17 limbs join them when ``V == 17``.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    num_joints = clean.shape[1]
    joints = list(range(num_joints)) if joints is None else list(joints)
    edges = COCO17_EDGES if num_joints == 17 else ()
    valid = np.asarray(valid, dtype=bool)
    frames = [int(f) for f in frames]
    colours = dict(observed='tab:blue', restored='tab:red', gt='tab:green')

    shown = np.concatenate([clean[frames][:, joints, :2],
                            restored[frames][:, joints, :2]]).reshape(-1, 2)
    lo, hi = shown.min(0), shown.max(0)
    centre = (lo + hi) / 2
    half = max(float((hi - lo).max()) / 2 * 1.15, 1e-3)

    num = len(frames)
    fig = Figure(figsize=(panel_size * num, panel_size * 3 + 0.9), dpi=dpi)
    FigureCanvasAgg(fig)
    axes = fig.subplots(3, num, squeeze=False)
    row_names = ('corrupted', restored_label, 'ground truth')
    for col, t in enumerate(frames):
        is_missing = not valid[t]
        for row in range(3):
            ax = axes[row, col]
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_xlim(centre[0] - half, centre[0] + half)
            ax.set_ylim(centre[1] + half, centre[1] - half)  # image y down
            ax.set_aspect('equal')
            if col == 0:
                ax.set_ylabel(row_names[row], fontsize=9)
        axes[0, col].set_title(f't={t}' + (' (missing)' if is_missing else
                                           ''), fontsize=8)
        if is_missing:
            ax = axes[0, col]
            ax.set_facecolor('0.88')
            ax.text(0.5, 0.5, 'missing', transform=ax.transAxes,
                    ha='center', va='center', color='0.4', fontsize=9)
            for spine in ax.spines.values():
                spine.set_linestyle('--')
                spine.set_edgecolor('0.5')
            err = np.linalg.norm(restored[t, joints, :2] -
                                 clean[t, joints, :2], axis=-1).mean()
            axes[1, col].set_title(f'err {err:.3f}', fontsize=7,
                                   color=colours['restored'])
            _draw_skeleton(axes[1, col], restored[t], joints, edges,
                           colours['restored'])
        else:
            _draw_skeleton(axes[0, col], corrupted[t], joints, edges,
                           colours['observed'])
            _draw_skeleton(axes[1, col], restored[t], joints, edges,
                           colours['observed'])
        _draw_skeleton(axes[2, col], clean[t], joints, edges, colours['gt'])
    handles = [
        Line2D([], [], color=colours['observed'], label='observed'),
        Line2D([], [], color=colours['restored'],
               label=f'{restored_label} (missing frames)'),
        Line2D([], [], color=colours['gt'], label='ground truth'),
    ]
    fig.legend(handles=handles, loc='lower center', ncol=3, fontsize=8,
               frameon=False)
    if title:
        fig.suptitle(title, fontsize=10)
    height = fig.get_figheight()
    fig.subplots_adjust(left=0.05, right=0.99, top=1 - 0.55 / height,
                        bottom=0.3 / height, wspace=0.05, hspace=0.15)

    atomic_write(out_file, lambda f: fig.savefig(f, format='png', dpi=dpi))
    return out_file
