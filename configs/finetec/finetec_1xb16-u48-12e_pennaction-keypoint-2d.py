# FineTec (① + ③) on Penn Action, 12 CPU epochs: the schedule of the
# 12-epoch evidence protocol (configs/evidence/evidence_cpu_12e.py), at which
# the all-level model comes within a point of a clean-trained ST-GCN++ on
# clean clips (at 6 epochs it was still climbing and 3.4 points under).
# About 5 minutes per run on the 2-core CPU at the protocol's CPU width.
_base_ = 'finetec_1xb16-u48-6e_pennaction-keypoint-2d.py'

train_cfg = dict(max_epochs=12)
# the root's cosine, over the 12 epochs
param_scheduler = [dict(s, T_max=12) for s in _base_.param_scheduler]
