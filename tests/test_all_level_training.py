"""A FineTec config trained for every level of frame loss (ratio U(0, 0.9),
a masking strategy per clip), end to end on the synthetic set through
tools/train.py."""
import math
import os.path as osp

import numpy as np
from mmengine.config import Config
from mmengine.dataset import Compose

from e2e_utils import TEST_CONFIGS, TOOLS, data_options, run, scalars
from finetec_mmaction.datasets import make_synthetic_gym

CONFIG = osp.join(TEST_CONFIGS, 'finetec_tiny_alllevel_gymsynth.py')


def test_training_clips_cover_every_level_and_strategy():
    cfg = Config.fromfile(CONFIG)
    pipeline = Compose(cfg.train_dataloader.dataset.dataset.pipeline[:2])
    data = make_synthetic_gym(num_classes=2, train_per_class=60,
                              test_per_class=0, seed=1)
    np.random.seed(0)
    ratios, strategies = [], set()
    for anno in data['annotations']:
        out = pipeline(dict(anno, keypoint=anno['keypoint'].astype(
            np.float32), keypoint_score=anno['keypoint_score'].astype(
                np.float32), img_shape=(720, 1280)))
        ratios.append(1 - out['frame_valid'].mean())
        strategies.add(out['corrupt_strategy'])
    ratios = np.array(ratios)
    # ceil(r * T) frames of T >= 24 are dropped, r <= 0.9
    assert ratios.max() <= 0.9 + 1 / 24
    # drawn over the whole range (120 clips: every tenth of it is hit)
    assert np.histogram(ratios, bins=9, range=(0, 0.9))[0].min() > 0
    assert len(strategies) >= 5


def test_all_level_finetec_trains_and_validates(synthetic_file, tmp_path):
    work_dir = str(tmp_path / 'work')
    run([osp.join(TOOLS, 'train.py'), CONFIG, '--work-dir', work_dir,
         '--seed', '0', '--cfg-options',
         f'model.completion.bank.ann_file={synthetic_file}'] +
        data_options(synthetic_file), cwd=str(tmp_path))
    logged = scalars(work_dir)
    losses = [s['loss'] for s in logged if 'loss' in s]
    assert losses and all(math.isfinite(v) for v in losses)
    assert [s for s in logged if 'loss_acc' in s]
    assert [s for s in logged if 'acc/top1' in s]
