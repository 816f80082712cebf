# FineTec on Gym288-skeleton: the user's entry point.
#
#   python tools/train.py configs/finetec/completion_1xb64-u100-40k_gym288-keypoint-2d.py  # stage 1
#   python tools/train.py configs/finetec_gym288.py                                         # stage 2
#   python tools/test.py configs/finetec_gym288.py work_dirs/finetec_gym288/epoch_16.pth
#
# Stage 2 loads and freezes module ① from stage 1's work dir. Severity: this
# file is 'moderate' (50 % of frames missing); the sibling files
# configs/finetec/finetec_8xb16-u100-80e_gym288-{minor,moderate,severe}-keypoint-2d.py
# set the others, or override the corruption transforms on the command line:
#   --cfg-options train_dataloader.dataset.dataset.pipeline.1.ratio=severe \
#                 val_dataloader.dataset.pipeline.1.ratio=severe \
#                 test_dataloader.dataset.pipeline.1.ratio=severe
_base_ = 'finetec/finetec_8xb16-u100-80e_gym288-moderate-keypoint-2d.py'
