"""A small synthetic stand-in for Gym288-skeleton.

Gym288-skeleton is large and not always at hand (CI, quick experiments), so
this module draws a gymnast-like stick figure in exactly the Gym288 pickle
format (SPEC §0) whose classes differ, like FineGym's, only in *fine
temporal detail* of one jump:

    ========= ============================================================
    factor    values (label ``c``)
    ========= ============================================================
    saltos    1 or 2 in-plane rotations in flight (``1 + c % 2``)
    twists    0, 1 or 2 turns about the body axis, seen as the shoulder and
              hip width oscillating like ``cos`` (``(c // 2) % 3``)
    apex arm  ``left`` or ``right`` arm raised for a short window around
              the apex (``(c // 6) % 2``)
    timing    ``early`` or ``late`` take-off (``(c // 12) % 2``)
    ========= ============================================================

so up to 24 classes; the default 12 vary saltos, twists and apex arm. The
apex arm is visible for only ~20 % of the flight and a second salto or twist
changes the motion within a few frames, which is what dropping frames
destroys. Every sample of a class has the same structure; nuisance factors
vary per sample: position, scale, duration (speed), take-off timing jitter,
jump height, horizontal drift, joint noise and detector-like scores in
``[0.5, 1]`` (lower for fast joints).

The figure is a COCO-17 kinematic chain in 3D body coordinates (x: the
subject's left, y: up, z: forward) with plausible limb lengths in units of
body height; twists rotate about the body's y axis, saltos rotate in the
image plane, and it is projected orthographically.
"""
import pickle
from typing import Dict, List, Tuple

import numpy as np

from ..utils.io import atomic_write

__all__ = [
    'SYNTHETIC_GYM_MAX_CLASSES', 'synthetic_class_spec', 'make_synthetic_gym',
    'write_synthetic_gym'
]

#: Number of distinct class structures the generator can draw.
SYNTHETIC_GYM_MAX_CLASSES = 24

_IMG_SHAPE = (720, 1280)
_NUM_JOINTS = 17

# Body geometry in units of body height (pelvis centre at the origin).
_SHOULDER = (0.13, 0.30)  # (half width, height above pelvis)
_HIP_HALF_WIDTH = 0.09
_UPPER_ARM, _FOREARM = 0.17, 0.15
_THIGH, _SHANK = 0.24, 0.24
_LEG = _THIGH + _SHANK
# Face joints (nose, l/r eye, l/r ear): fixed relative to the torso.
_FACE = np.array([[0.0, 0.45, 0.05], [0.03, 0.47, 0.04], [-0.03, 0.47, 0.04],
                  [0.07, 0.45, -0.01], [-0.07, 0.45, -0.01]])


def synthetic_class_spec(label: int) -> Dict:
    """The structure of class ``label``.

    Returns:
        dict: ``saltos`` (int), ``twists`` (int), ``arm`` ('left' |
        'right'), ``timing`` ('early' | 'late') and a readable ``name``.
    """
    if not 0 <= label < SYNTHETIC_GYM_MAX_CLASSES:
        raise ValueError(f'label must lie in [0, {SYNTHETIC_GYM_MAX_CLASSES})'
                         f', got {label}.')
    spec = dict(
        saltos=1 + label % 2,
        twists=(label // 2) % 3,
        arm=('left', 'right')[(label // 6) % 2],
        timing=('early', 'late')[(label // 12) % 2])
    spec['name'] = (f"salto{spec['saltos']}_twist{spec['twists']}_"
                    f"{spec['arm']}arm_{spec['timing']}")
    return spec


def _smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def _bump(x: np.ndarray) -> np.ndarray:
    """``sin(pi x)`` on ``[0, 1]``, zero outside: a smooth in-and-out."""
    return np.where((x > 0) & (x < 1), np.sin(np.pi * np.clip(x, 0, 1)), 0.0)


def _body_pose(arm_l: np.ndarray, arm_r: np.ndarray, hip_flex: np.ndarray,
               knee_flex: np.ndarray) -> np.ndarray:
    """Joint positions in body coordinates.

    Args:
        arm_l, arm_r: ``(T,)`` arm elevation in the frontal plane (0: hanging
            down, pi: overhead).
        hip_flex, knee_flex: ``(T,)`` flexion angles (radians) of both legs.

    Returns:
        np.ndarray: ``(T, 17, 3)`` COCO-17 joints (x left, y up, z forward).
    """
    num_frames = len(arm_l)
    joints = np.zeros((num_frames, _NUM_JOINTS, 3))
    joints[:, :5] = _FACE
    elbow_bend = 0.3
    for side, sign, elev in (('l', 1.0, arm_l), ('r', -1.0, arm_r)):
        s, e, w = (5, 7, 9) if side == 'l' else (6, 8, 10)
        joints[:, s] = (sign * _SHOULDER[0], _SHOULDER[1], 0.0)
        joints[:, e, 0] = joints[:, s, 0] + sign * _UPPER_ARM * np.sin(elev)
        joints[:, e, 1] = joints[:, s, 1] - _UPPER_ARM * np.cos(elev)
        fore = elev + elbow_bend
        joints[:, w, 0] = joints[:, e, 0] + sign * _FOREARM * np.sin(fore)
        joints[:, w, 1] = joints[:, e, 1] - _FOREARM * np.cos(fore)
        h, k, a = (11, 13, 15) if side == 'l' else (12, 14, 16)
        joints[:, h] = (sign * _HIP_HALF_WIDTH, 0.0, 0.0)
        # Flexion swings the thigh forward (+z); the shank folds back.
        shank = hip_flex - knee_flex
        joints[:, k, 0] = sign * (_HIP_HALF_WIDTH + 0.015)
        joints[:, k, 1] = -_THIGH * np.cos(hip_flex)
        joints[:, k, 2] = _THIGH * np.sin(hip_flex)
        joints[:, a, 0] = sign * (_HIP_HALF_WIDTH + 0.03)
        joints[:, a, 1] = joints[:, k, 1] - _SHANK * np.cos(shank)
        joints[:, a, 2] = joints[:, k, 2] + _SHANK * np.sin(shank)
    return joints


def _draw_sample(label: int, num_frames: int, rng: np.random.Generator,
                 flight: Tuple[float, float] = (0.5, 0.6)) -> Dict:
    """One annotation's arrays: keypoint ``(1, T, 17, 2)`` pixels (float32)
    and keypoint_score ``(1, T, 17)``; the flight lasts a fraction of the
    sequence drawn from ``flight``."""
    spec = synthetic_class_spec(label)
    u = np.linspace(0.0, 1.0, num_frames)

    # Nuisance: when, how long, how high, where and how big. An early
    # take-off leaves a quarter of the ground time before the flight, a late
    # one three quarters.
    flight = rng.uniform(*flight)
    ground = max(1.0 - flight - 0.1, 0.0)
    take_off = ground * (0.25 if spec['timing'] == 'early' else 0.75) + \
        0.05 + rng.uniform(-0.03, 0.03)
    land = take_off + flight
    height = rng.uniform(0.6, 0.9)
    drift = rng.uniform(-0.4, 0.4)
    scale = rng.uniform(110.0, 200.0)  # pixels per body height
    centre_x = rng.uniform(350.0, 930.0)
    ground_y = rng.uniform(540.0, 660.0)

    s = np.clip((u - take_off) / flight, 0.0, 1.0)  # flight phase
    in_flight = (u > take_off) & (u < land)
    crouch_len = 0.12
    crouch = (_bump((u - (take_off - crouch_len)) / crouch_len) +
              _bump((u - land) / crouch_len))
    # Tucked saltos, straight (layout) twists: part of the class structure.
    tuck = (1.0 if spec['twists'] == 0 else 0.3) * np.where(
        in_flight, np.clip(1.6 * np.sin(np.pi * s), 0, 1), 0.0)
    hip_flex = 0.7 * crouch + 2.0 * tuck
    knee_flex = 1.3 * crouch + 2.2 * tuck

    # Arms: swing up into the take-off, held low in flight, out for balance
    # on landing, down at rest; one arm goes overhead around the apex.
    swing = _smoothstep((u - (take_off - crouch_len)) / crouch_len)
    after = _smoothstep((u - land) / crouch_len)
    flight_arms = (2.8 - 2.3 * _smoothstep(s / 0.1) +
                   0.9 * _smoothstep((s - 0.8) / 0.2))
    arms = np.where(u < take_off, 0.2 + 2.6 * swing,
                    np.where(in_flight, flight_arms, 1.4 - 1.2 * after))
    apex = np.clip(np.cos(np.pi * (s - 0.5) / 0.24), 0, None) * (
        np.abs(s - 0.5) < 0.12) * in_flight
    raised = arms + (np.pi - 0.15 - arms) * apex
    arm_l, arm_r = ((raised, arms) if spec['arm'] == 'left' else
                    (arms, raised))
    joints = _body_pose(arm_l, arm_r, hip_flex, knee_flex)

    # Twist about the body axis (y), then salto in the image plane.
    twist = 2 * np.pi * spec['twists'] * _smoothstep(s)[:, None]
    x, y, z = joints[..., 0], joints[..., 1], joints[..., 2]
    x = x * np.cos(twist) + z * np.sin(twist)
    salto = 2 * np.pi * spec['saltos'] * _smoothstep(s)[:, None]
    x, y = x * np.cos(salto) - y * np.sin(salto), x * np.sin(
        salto) + y * np.cos(salto)

    # Pelvis trajectory: feet on the ground outside the flight, a parabola
    # inside it.
    stance = (_THIGH * np.cos(hip_flex) +
              _SHANK * np.cos(hip_flex - knee_flex))
    pelvis_y = np.where(in_flight, _LEG + height * 4 * s * (1 - s), stance)
    pelvis_x = drift * s
    x = x + pelvis_x[:, None]
    y = y + pelvis_y[:, None]
    xy = np.stack([x, y], axis=-1)
    xy += rng.normal(0.0, 0.008, xy.shape)  # pose-estimator jitter

    pixels = np.empty_like(xy)
    pixels[..., 0] = centre_x + scale * xy[..., 0]
    pixels[..., 1] = ground_y - scale * xy[..., 1]

    # Detector-like confidence: noisy, and lower where joints move fast
    # (motion blur), always within [0.5, 1].
    speed = np.zeros(xy.shape[:2])
    speed[1:] = np.linalg.norm(np.diff(xy, axis=0), axis=-1)
    speed *= num_frames / 48.0  # per unit of normalised time
    score = rng.uniform(0.8, 1.0, speed.shape) - 1.5 * speed
    score = np.clip(score, 0.5, 1.0)
    return dict(keypoint=pixels[None].astype(np.float32),
                keypoint_score=score[None].astype(np.float32))


def _annotation(frame_dir: str, label: int, keypoint: np.ndarray,
                score: np.ndarray) -> Dict:
    """Pack arrays in the Gym288-skeleton annotation layout."""
    num_frames = keypoint.shape[1]
    kp16 = keypoint.astype(np.float16)
    score16 = score.astype(np.float16)
    kp_w_gt = np.concatenate(
        [kp16[0].astype(np.float32),
         score16[0, ..., None].astype(np.float32)], axis=-1)
    return dict(
        frame_dir=frame_dir,
        label=int(label),
        img_shape=_IMG_SHAPE,
        original_shape=_IMG_SHAPE,
        total_frames=int(num_frames),
        keypoint=kp16,
        keypoint_score=score16,
        kp_wo_gt=np.zeros((num_frames, _NUM_JOINTS, 3), np.float32),
        kp_w_gt=kp_w_gt)


def make_synthetic_gym(num_classes: int = 12,
                       train_per_class: int = 60,
                       test_per_class: int = 20,
                       min_frames: int = 24,
                       max_frames: int = 72,
                       flight: Tuple[float, float] = (0.5, 0.6),
                       seed: int = 0) -> Dict:
    """Draw a synthetic dataset in the Gym288-skeleton pickle format.

    Args:
        num_classes (int): Number of classes (at most 24, see the module
            docstring for their structure). Defaults to 12.
        train_per_class (int): Training samples per class. Defaults to 60.
        test_per_class (int): Test samples per class. Defaults to 20.
        min_frames (int): Shortest sequence (``T``). Defaults to 24.
        max_frames (int): Longest sequence; ``T`` is uniform in
            ``[min_frames, max_frames]``. Defaults to 72.
        flight (tuple): Range of the fraction of a sequence spent in the
            air, where the classes differ. Defaults to ``(0.5, 0.6)``: long
            enough that a small GCN learns the classes from clean clips in a
            few CPU minutes, short enough that losing 75 % of the frames
            loses most of the jump.
        seed (int): Seed; the same arguments give the same dataset.

    Returns:
        dict: ``{'split': {'train': [ids], 'test': [ids]}, 'annotations':
        [...]}``; each annotation has ``frame_dir``, ``label``,
        ``img_shape``/``original_shape`` (720, 1280), ``total_frames``,
        ``keypoint`` float16 ``(1, T, 17, 2)`` pixels, ``keypoint_score``
        float16 ``(1, T, 17)``, ``kp_wo_gt`` float32 zeros ``(T, 17, 3)`` and
        ``kp_w_gt`` float32 ``(T, 17, 3)`` = (x, y, score).
    """
    if not 1 <= num_classes <= SYNTHETIC_GYM_MAX_CLASSES:
        raise ValueError(f'num_classes must lie in [1, '
                         f'{SYNTHETIC_GYM_MAX_CLASSES}], got {num_classes}.')
    if train_per_class < 0 or test_per_class < 0:
        raise ValueError('Samples per class must be non-negative.')
    if not 0 < flight[0] <= flight[1] < 0.9:
        raise ValueError(f'flight must be (low, high) with 0 < low <= high '
                         f'< 0.9, got {flight}.')
    if not 8 <= min_frames <= max_frames:
        # Below ~8 frames the jump is no longer drawn recognisably.
        raise ValueError(f'Need 8 <= min_frames <= max_frames, got '
                         f'{min_frames}, {max_frames}.')
    rng = np.random.default_rng(seed)
    split: Dict[str, List[str]] = {'train': [], 'test': []}
    annotations = []
    for name, per_class in (('train', train_per_class),
                            ('test', test_per_class)):
        for label in range(num_classes):
            for k in range(per_class):
                frame_dir = f'synthgym_{name}_c{label:03d}_{k:04d}'
                num_frames = int(rng.integers(min_frames, max_frames + 1))
                arrays = _draw_sample(label, num_frames, rng, flight)
                annotations.append(
                    _annotation(frame_dir, label, arrays['keypoint'],
                                arrays['keypoint_score']))
                split[name].append(frame_dir)
    return dict(split=split, annotations=annotations)


def write_synthetic_gym(path: str, **kwargs) -> Dict:
    """Draw a synthetic dataset and write it atomically to ``path``.

    The pickle goes to a temporary file in the same directory first and is
    moved into place with ``os.replace``, so a reader never sees a partial
    file.

    Args:
        path (str): Output ``.pkl`` file; parent directories are created.
        **kwargs: Arguments of :func:`make_synthetic_gym`.

    Returns:
        dict: The written data.
    """
    data = make_synthetic_gym(**kwargs)
    atomic_write(path, lambda f: pickle.dump(data, f, protocol=4))
    return data
