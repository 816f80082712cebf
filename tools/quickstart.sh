#!/usr/bin/env bash
# One command: set up .venv, generate the embedded synthetic dataset, then run
# FineTec on it -- stage 1 (pre-train the completion module), stage 2 (train
# the recognizer with the completion module frozen) and the test -- at 50 %
# of the frames missing. Sized for a CPU. Re-running skips the setup and data
# generation that are already done.
set -euo pipefail
cd "$(dirname "$0")/.."
STAGE1=configs/finetec/completion_1xb64-u48-500_gymsynth-keypoint-2d.py
STAGE2=${CONFIG:-configs/finetec/finetec_1xb16-u48-16e_gymsynth-moderate-keypoint-2d.py}

bash tools/install.sh
PY=.venv/bin/python
[ -f data/synthetic/gym_synthetic.pkl ] || \
    $PY tools/data/generate_synthetic_gym.py --out data/synthetic/gym_synthetic.pkl
# stage 2 reads the stage-1 checkpoint from stage 1's default work dir
$PY tools/train.py "$STAGE1" --seed 0
$PY tools/train.py "$STAGE2" --seed 0
WORK_DIR=work_dirs/$(basename "$STAGE2" .py)
$PY tools/test.py "$STAGE2" "$(cat "$WORK_DIR/last_checkpoint")" --work-dir "$WORK_DIR/test"
