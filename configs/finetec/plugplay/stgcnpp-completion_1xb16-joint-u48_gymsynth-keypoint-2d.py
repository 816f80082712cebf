# Plug-and-play restoration on the embedded synthetic data: the frozen FineTec
# stage-1 completion module (①) in front of an EXISTING stock ST-GCN++ (joint)
# checkpoint, tested with 75 % of the frames missing at random (the pipeline
# zero-fills them, ① restores them before the GCN). No retraining:
#
#   python tools/train.py configs/finetec/completion_1xb64-u48-500_gymsynth-keypoint-2d.py  # once: stage 1
#   python tools/test.py configs/finetec/plugplay/THIS_FILE.py STGCNPP_CKPT
#
# STGCNPP_CKPT: any checkpoint of configs/baselines/stgcnpp/
#   stgcnpp_1xb32-joint-u48-15e_gymsynth-*keypoint-2d.py
# (e.g. the -clean one). The classifier is that config's own model (inherited
# below), so the checkpoint's backbone.* / cls_head.* keys load as is;
# mmengine's note that the checkpoint lacks completion.* is expected (① comes
# from completion_checkpoint). Other settings: --missing-ratio /
# --missing-strategy of tools/test.py. Compare with the same checkpoint on
# the baseline config itself (zero-filled) or its -interp / -dup children.
_base_ = '../../baselines/stgcnpp/stgcnpp_1xb32-joint-u48-15e_gymsynth-keypoint-2d.py'

model = dict(
    type='RecognizerFineTec',
    # must match the stage-1 config (layout, clip_len, width)
    completion=dict(
        type='ContextAwareCompletion',
        num_joints=17,
        num_channels=3,
        coord_channels=2,
        clip_len=48),
    # stage 1's work dir (its last checkpoint) or a checkpoint file
    completion_checkpoint='work_dirs/completion_1xb64-u48-500_gymsynth-keypoint-2d')
