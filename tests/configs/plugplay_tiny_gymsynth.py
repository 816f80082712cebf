# The shipped plug-and-play config (stage-1 completion in front of a stock
# ST-GCN++ checkpoint) at the sizes of the tiny test models: ST-GCN++ of
# stgcnpp_tiny_clean_gymsynth.py, completion of completion_tiny_gymsynth.py.
# Set model.completion_checkpoint to the stage-1 work dir.
_base_ = '../../configs/finetec/plugplay/stgcnpp-completion_1xb16-joint-u48_gymsynth-keypoint-2d.py'

model = dict(
    completion=dict(hidden_channels=8),
    backbone=dict(base_channels=8, num_stages=2, inflate_stages=[],
                  down_stages=[]),
    cls_head=dict(in_channels=8))

train_dataloader = dict(batch_size=4, num_workers=0, persistent_workers=False)
val_dataloader = dict(batch_size=4, num_workers=0, persistent_workers=False)
test_dataloader = dict(batch_size=4, num_workers=0, persistent_workers=False)
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='ActionVisualizer', vis_backends=vis_backends)
