#!/usr/bin/env bash
# One command: set up .venv, generate the embedded synthetic dataset, train
# stock ST-GCN++ (zero-filled and with interpolation) and FineTec on it with
# every level of frame loss, then print them side by side at 75 % of the
# frames missing and plot accuracy against the missing ratio
# (work_dirs/quickstart/sweep/corruption_sweep.png). CPU-sized: about 6
# minutes on 2 cores after the set-up. Re-running skips the set-up, the data
# and the trainings that are already done. SEED=N trains another seed;
# SMOKE=1 checks the plumbing in a minute (tiny data, one epoch, two ratios).
set -euo pipefail
cd "$(dirname "$0")/.."
SEED=${SEED:-0}
WORK=${WORK:-work_dirs/quickstart/seed$SEED}
DATA=data/synthetic/gym_synthetic.pkl
GENERATE=() TRAIN=() SWEEP=(--ratios 0 0.25 0.5 0.75 0.9 --strategies random in-between)
if [ "${SMOKE:-0}" = 1 ]; then
    WORK=work_dirs/quickstart/smoke DATA=data/synthetic/gym_synthetic_smoke.pkl
    GENERATE=(--train-per-class 3 --test-per-class 1)
    TRAIN=(train_cfg.max_epochs=1 train_cfg.val_interval=1)
    SWEEP=(--ratios 0 0.75 --strategies random)
fi
DATA_OPTIONS=(train_dataloader.dataset.dataset.ann_file=$DATA
              val_dataloader.dataset.ann_file=$DATA
              test_dataloader.dataset.ann_file=$DATA)
ZERO=configs/baselines/stgcnpp/stgcnpp_1xb32-joint-u48-15e_gymsynth-keypoint-2d.py
INTERP=configs/baselines/stgcnpp/stgcnpp_1xb32-joint-u48-15e_gymsynth-interp-keypoint-2d.py
FINETEC=configs/finetec/finetec_1xb32-u48-15e_gymsynth-keypoint-2d.py

[ -x .venv/bin/python ] || bash tools/install.sh
PY=.venv/bin/python
[ -f "$DATA" ] || $PY tools/data/generate_synthetic_gym.py --out "$DATA" "${GENERATE[@]}"
BANK=(model.completion.bank.ann_file=$DATA
      model.completion.bank.cache=work_dirs/banks/$(basename "$DATA" .pkl)_train_u48.npz)

train() {  # CONFIG NAME [cfg-options]: one torch thread each, two at a time
    [ -f "$WORK/$2/done" ] && return
    OMP_NUM_THREADS=1 $PY tools/train.py "$1" --work-dir "$WORK/$2" \
        --seed "$SEED" --cfg-options "${DATA_OPTIONS[@]}" "${TRAIN[@]}" \
        "${@:3}" > "$WORK/$2.log" 2>&1 || {
        echo "training $2 failed, see $WORK/$2.log" >&2; return 1; }
    touch "$WORK/$2/done"
}
mkdir -p "$WORK"
echo "training FineTec, ST-GCN++ zero-filled and ST-GCN++ interpolated (logs in $WORK/)"
train "$FINETEC" finetec "${BANK[@]}" & finetec=$!
train "$ZERO" stgcnpp && train "$INTERP" stgcnpp-interp
wait $finetec

# the same masks for every model (seeded by video); table + plot
OMP_NUM_THREADS=2 $PY tools/analysis/corruption_sweep.py \
    "$ZERO" "$WORK/stgcnpp" "$INTERP" "$WORK/stgcnpp-interp" \
    "$FINETEC" "$WORK/finetec" \
    --names "ST-GCN++ zero-filled" "ST-GCN++ interpolated" "FineTec" \
    "${SWEEP[@]}" --cfg-options "${DATA_OPTIONS[@]}" \
    --num-workers 0 --no-progress --summary 0.75 --out-dir "$WORK/sweep"
