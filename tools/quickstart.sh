#!/usr/bin/env bash
# Set up .venv, generate the embedded synthetic dataset and train + test the
# main model on it (CPU-sized). Re-running skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
CONFIG=${CONFIG:-configs/baselines/stgcnpp/stgcnpp_1xb16-joint-u48-24e_gymsynth-moderate-keypoint-2d.py}
WORK_DIR=${WORK_DIR:-work_dirs/quickstart}

bash tools/install.sh
PY=.venv/bin/python
[ -f data/synthetic/gym_synthetic.pkl ] || \
    $PY tools/data/generate_synthetic_gym.py --out data/synthetic/gym_synthetic.pkl
$PY tools/train.py "$CONFIG" --work-dir "$WORK_DIR" --seed 0
$PY tools/test.py "$CONFIG" "$(cat "$WORK_DIR/last_checkpoint")" --work-dir "$WORK_DIR/test"
