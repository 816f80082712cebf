# Training-free restoration on UTKinect (3D): an untrained completion module
# (①) with retrieval in front of a stock ST-GCN++ (joint), tested with 75 %
# of the frames missing at random. No stage 1:
#
#   python tools/test.py configs/finetec/plugplay/stgcnpp-retrieval_1xb16-joint-u32_utkinect-keypoint-3d.py STGCNPP_CKPT
#
# STGCNPP_CKPT: a checkpoint of configs/baselines/stgcnpp/
#   stgcnpp_1xb16-joint-u32-80e_utkinect-*keypoint-3d.py (e.g. -clean), or
# train this config to have ST-GCN++ learn with the restoration in front.
_base_ = '../../baselines/stgcnpp/stgcnpp_1xb16-joint-u32-80e_utkinect-keypoint-3d.py'

# the Kinect v1 left/right partners (data/utkinect/README.md)
kinect_flip_index = [0, 1, 2, 3, 8, 9, 10, 11, 4, 5, 6, 7, 16, 17, 18, 19,
                     12, 13, 14, 15]
model = dict(
    type='RecognizerFineTec',
    completion=dict(
        type='ContextAwareCompletion',
        num_joints=20,
        num_channels=3,
        coord_channels=3,
        clip_len=32,
        retrieval=dict(num_neighbours=16, flip_index=kinect_flip_index),
        bank=dict(
            ann_file='data/utkinect/utkinect_3d.pkl',
            split='train',
            normalize='3d',
            max_size=2048,
            cache='work_dirs/banks/utkinect_train_u32.npz')),
    completion_checkpoint=None)
