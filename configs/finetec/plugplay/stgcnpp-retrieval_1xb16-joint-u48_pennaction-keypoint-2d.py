# Training-free restoration on Penn Action: an UNTRAINED completion module (①)
# with retrieval in front of an EXISTING stock ST-GCN++ (joint) checkpoint,
# tested with 75 % of the frames missing at random. Missing frames are
# restored by Akima interpolation plus the motion detail of the 16 training
# sequences closest to the clip on its observed frames
# (ContextAwareCompletion(retrieval=...), the bank built from the training
# split and cached). No stage 1, no retraining:
#
#   python tools/test.py configs/finetec/plugplay/stgcnpp-retrieval_1xb16-joint-u48_pennaction-keypoint-2d.py STGCNPP_CKPT
#
# STGCNPP_CKPT: any checkpoint of configs/baselines/stgcnpp/
#   stgcnpp_1xb16-joint-u48-6e_pennaction-*keypoint-2d.py (e.g. -clean).
# mmengine's note that the checkpoint lacks completion.* is expected (the
# module has no trained weights here; its bank is built from ann_file).
# Other settings: --missing-ratio / --missing-strategy of tools/test.py. A
# trained stage-1 module can be used as well: set completion_checkpoint (its
# learned correction then adds to the retrieval fill).
_base_ = '../../baselines/stgcnpp/stgcnpp_1xb16-joint-u48-6e_pennaction-keypoint-2d.py'

model = dict(
    type='RecognizerFineTec',
    completion=dict(
        type='ContextAwareCompletion',
        num_joints=17,
        num_channels=3,
        coord_channels=2,
        clip_len=48,
        # mirrored bank sequences compete too (COCO left/right table)
        retrieval=dict(num_neighbours=16, flip_index='coco'),
        bank=dict(
            ann_file='data/penn_action/penn_action_coco17_2d.pkl',
            split='train',
            max_size=2048,
            cache='work_dirs/banks/pennaction_train_u48.npz')),
    completion_checkpoint=None)
