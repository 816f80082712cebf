"""End-to-end FineTec through tools/train.py and tools/test.py on synthetic
data: stage-1 completion pre-training, stage-2 training with ① frozen, and
testing from the stage-2 checkpoint."""
import os.path as osp

import torch

from e2e_utils import (TEST_CONFIGS, TOOLS, data_options, last_checkpoint,
                       run, scalars)

STAGE2 = osp.join(TEST_CONFIGS, 'finetec_tiny_gymsynth.py')


def test_stage1_pretraining_lowers_the_loss(stage1_dir):
    losses = [s['loss'] for s in scalars(stage1_dir) if 'loss' in s]
    assert len(losses) >= 4
    assert losses[-1] < losses[0]
    # validation ran the restoration metric beside the classical fills
    metrics = [s for s in scalars(stage1_dir) if 'completion/mpjpe' in s]
    assert metrics and 'completion/linear/mpjpe' in metrics[-1]


def test_stage2_trains_with_frozen_completion_then_tests(
        stage1_dir, synthetic_file, tmp_path):
    work_dir = str(tmp_path / 'stage2')
    run([osp.join(TOOLS, 'train.py'), STAGE2, '--work-dir', work_dir,
         '--seed', '0', '--cfg-options',
         f'model.completion_checkpoint={stage1_dir}'] +
        data_options(synthetic_file), cwd=str(tmp_path))
    stage2_ckpt = last_checkpoint(work_dir)

    before = torch.load(last_checkpoint(stage1_dir), map_location='cpu',
                        weights_only=False)['state_dict']
    after = torch.load(stage2_ckpt, map_location='cpu',
                       weights_only=False)['state_dict']
    completion = [k for k in before if k.startswith('completion.')]
    assert completion
    for key in completion:
        torch.testing.assert_close(after[key], before[key], rtol=0, atol=0)
    # the rest of the model did train
    assert any(k.startswith('neck.') for k in after)
    losses = [s for s in scalars(work_dir) if 'loss_acc' in s]
    assert losses, 'L = L_CE + lambda L_Ac: the physics loss is logged'

    # the stage-2 checkpoint carries the completion module: testing it does
    # not need the stage-1 work dir (here: one that does not exist)
    out = run([osp.join(TOOLS, 'test.py'), STAGE2, stage2_ckpt, '--work-dir',
               str(tmp_path / 'test'), '--cfg-options',
               f'model.completion_checkpoint={tmp_path / "moved_away"}'] +
              data_options(synthetic_file), cwd=str(tmp_path))
    assert 'acc/top1' in out and 'acc/mean1' in out
    assert 'completion module and prompt bank: from the checkpoint' in out


def test_stage2_names_a_missing_stage1_checkpoint(synthetic_file, tmp_path):
    missing = str(tmp_path / 'no_such_stage1')
    out = run([osp.join(TOOLS, 'train.py'), STAGE2, '--work-dir',
               str(tmp_path / 'w'), '--cfg-options',
               f'model.completion_checkpoint={missing}'] +
              data_options(synthetic_file), cwd=str(tmp_path),
              expect_ok=False)
    assert 'Stage-1 completion checkpoint not found' in out
    assert missing in out


def test_stock_stgcnpp_with_the_physics_neck_trains(synthetic_file, tmp_path):
    config = osp.join(TEST_CONFIGS, 'stgcnpp_physics_tiny_gymsynth.py')
    work_dir = str(tmp_path / 'work')
    run([osp.join(TOOLS, 'train.py'), config, '--work-dir', work_dir,
         '--seed', '0', '--cfg-options'] + data_options(synthetic_file),
        cwd=str(tmp_path))
    state = torch.load(last_checkpoint(work_dir), map_location='cpu',
                       weights_only=False)['state_dict']
    # the stock backbone reads 3 position + 2 acceleration channels
    assert state['backbone.data_bn.weight'].numel() == 5 * 17
    assert any(k.startswith('neck.') for k in state)
    assert [s for s in scalars(work_dir) if 'loss_acc' in s]
