#!/usr/bin/env bash
# One command: set up .venv, generate the embedded synthetic dataset, train
# stock ST-GCN++ (zero-filled and with interpolation) and FineTec on it with
# every level of frame loss, then print them side by side at 75 % of the
# frames missing and plot accuracy against the missing ratio
# (work_dirs/quickstart/sweep/corruption_sweep.png). CPU-sized: about 6
# minutes on 2 cores after the set-up. Re-running skips the set-up, the data
# and the trainings that are already done. SEED=N trains another seed.
set -euo pipefail
cd "$(dirname "$0")/.."
SEED=${SEED:-0}
WORK=${WORK:-work_dirs/quickstart/seed$SEED}
ZERO=configs/baselines/stgcnpp/stgcnpp_1xb32-joint-u48-15e_gymsynth-keypoint-2d.py
INTERP=configs/baselines/stgcnpp/stgcnpp_1xb32-joint-u48-15e_gymsynth-interp-keypoint-2d.py
FINETEC=configs/finetec/finetec_1xb32-u48-15e_gymsynth-keypoint-2d.py

[ -x .venv/bin/python ] || bash tools/install.sh
PY=.venv/bin/python
[ -f data/synthetic/gym_synthetic.pkl ] || \
    $PY tools/data/generate_synthetic_gym.py --out data/synthetic/gym_synthetic.pkl

train() {  # CONFIG NAME: one torch thread each, two trainings at a time
    [ -f "$WORK/$2/done" ] && return
    OMP_NUM_THREADS=1 $PY tools/train.py "$1" --work-dir "$WORK/$2" \
        --seed "$SEED" > "$WORK/$2.log" 2>&1 || {
        echo "training $2 failed, see $WORK/$2.log" >&2; return 1; }
    touch "$WORK/$2/done"
}
mkdir -p "$WORK"
echo "training FineTec, ST-GCN++ zero-filled and ST-GCN++ interpolated (logs in $WORK/)"
train "$FINETEC" finetec & finetec=$!
train "$ZERO" stgcnpp && train "$INTERP" stgcnpp-interp
wait $finetec

# the same masks for every model (seeded by video); table + plot
OMP_NUM_THREADS=2 $PY tools/analysis/corruption_sweep.py \
    "$ZERO" "$WORK/stgcnpp" "$INTERP" "$WORK/stgcnpp-interp" \
    "$FINETEC" "$WORK/finetec" \
    --names "ST-GCN++ zero-filled" "ST-GCN++ interpolated" "FineTec" \
    --ratios 0 0.25 0.5 0.75 0.9 --strategies random in-between \
    --num-workers 0 --no-progress --summary 0.75 --out-dir "$WORK/sweep"
