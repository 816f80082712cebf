# Plug-and-play restoration on Penn Action: the frozen FineTec stage-1 completion
# module (①) in front of an EXISTING stock ST-GCN++ (joint) checkpoint, tested
# with 50 % of the frames missing (moderate, random drop; the pipeline
# zero-fills them, ① restores them before the GCN). No retraining:
#
#   # once: stage 1 (its work dir is completion_checkpoint below)
#   python tools/train.py configs/finetec/completion_1xb64-u100-20k_pennaction-keypoint-2d.py
#   # any checkpoint of configs/baselines/stgcnpp/
#   stgcnpp_8xb16-joint-u100-80e_pennaction-*-keypoint-2d.py
#   # (e.g. the clean-trained one):
#   python tools/test.py configs/finetec/plugplay/stgcnpp-completion_8xb16-joint-u100_pennaction-moderate-keypoint-2d.py STGCNPP_CKPT
#
# The classifier is the baseline config's own model (inherited below), so the
# checkpoint's backbone.* / cls_head.* keys load as is; mmengine's note that
# the checkpoint lacks completion.* is expected (① comes from
# completion_checkpoint). Other drops, e.g.:
#   --cfg-options test_dataloader.dataset.pipeline.1.strategy=in-between
# Compare with the same checkpoint on the zero-filled baseline config
# (stgcnpp_8xb16-joint-u100-80e_pennaction-moderate-keypoint-2d.py) or its -interp / -dup variants.
_base_ = '../../baselines/stgcnpp/stgcnpp_8xb16-joint-u100-80e_pennaction-moderate-keypoint-2d.py'

model = dict(
    type='RecognizerFineTec',
    # must match the stage-1 config (layout, clip_len, width)
    completion=dict(
        type='ContextAwareCompletion',
        num_joints=17,
        num_channels=3,
        coord_channels=2,
        clip_len=100),
    # stage 1's work dir (its last checkpoint) or a checkpoint file
    completion_checkpoint='work_dirs/completion_1xb64-u100-20k_pennaction-keypoint-2d')
