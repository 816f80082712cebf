# FineTec on FineGym-288: the user's entry point.
#
#   python tools/train.py configs/finetec_gym288.py
#   python tools/test.py configs/finetec_gym288.py work_dirs/finetec_gym288/epoch_16.pth
#
# Module ① is training-free (Akima + retrieval from the training split, made
# safe by self-validation); for the paper's learned ①, train
# finetec/completion_1xb64-u100-40k_gym288-keypoint-2d.py first and add
#   --cfg-options model.completion_checkpoint=work_dirs/completion_1xb64-u100-40k_gym288-keypoint-2d
# It is trained with every level of frame loss (a ratio in [0, 0.9] and a
# strategy per sample) and tested at 75 % missing at random; test other
# settings with
#   python tools/test.py configs/finetec_gym288.py CHECKPOINT --missing-ratio 0.5 --missing-strategy in-between
# or train at one level, the paper's protocol, with --missing-ratio (or the
# finetec/finetec_8xb16-u100-80e_gym288-{minor,moderate,severe}-keypoint-2d.py children).
_base_ = 'finetec/finetec_8xb16-u100-80e_gym288-keypoint-2d.py'
