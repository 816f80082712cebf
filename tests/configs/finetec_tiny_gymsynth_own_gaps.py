# The tiny FineTec test model (tests/configs/finetec_tiny_gymsynth.py) with
# retrieval in ①, tested on the data's own missing frames: no simulated
# corruption, ZeroFillMissingFrames where TemporalCorruption was (a pickle's
# zeroed frames would otherwise reach the model at -1 after PreNormalize2D).
# tools/test.py with this config is what the skeleton demo must match.
_base_ = './finetec_tiny_gymsynth.py'

model = dict(
    completion=dict(retrieval=dict(num_neighbours=4, flip_index='coco')),
    cls_head=dict(num_classes=4))

test_pipeline = [
    dict(type='PreNormalize2D'),
    dict(type='ZeroFillMissingFrames'),
    dict(type='GenSkeFeat', dataset='coco', feats=['j']),
    dict(type='UniformSampleFrames', clip_len=48, num_clips=1,
         test_mode=True),
    dict(type='PoseDecode'),
    dict(type='FormatGCNInput', num_person=1),
    dict(type='PackActionInputs')
]
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
