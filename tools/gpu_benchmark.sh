#!/usr/bin/env bash
# One short run on one GPU: FineTec against stock ST-GCN++ on Penn Action.
#
#   bash tools/gpu_benchmark.sh            # in an environment with the plugin
#                                          # installed and data/penn_action/
#
# 1. trains, all at once on the one GPU (stock ST-GCN++ is launch-bound, so
#    concurrent runs fill the GPU): stage 1 (the completion module), stock
#    ST-GCN++ at severe corruption (zero-filled and interpolated), ST-GCN++
#    on clean data, FineTec without ① -- then, once stage 1 is done, FineTec
#    and its ablations without ② and without ③;
# 2. tests every model at severe corruption under random, in-between and
#    motion drops (tools/test.py, the configs' 10-clip test);
# 3. restoration table of stage 1 with the clean ST-GCN++ behind it
#    (tools/analysis/completion_benchmark.py);
# 4. the corruption sweep of FineTec and ST-GCN++
#    (tools/analysis/corruption_sweep.py);
# 5. the speed benchmark at batch 64, clip 100 (fp32, then bf16 + compile).
#
# Budgets (environment variables; the defaults are sized to finish in about
# ten minutes on one H100 -- an estimate, see README):
#   EPOCHS        stage-2 epochs over the configs' RepeatDataset(times=5)
#                 (default 4 = 20 passes over the training split)
#   STAGE1_ITERS  stage-1 iterations (default 4000)
#   BATCH         stage-2 batch size (default 64; lr scaled from 0.1 @ 128)
#   WORKERS       data loader workers per run (default 3)
#   WORK          output folder (default work_dirs/gpu_benchmark)
#   PYTHON        interpreter (default python)
#   SMOKE=1       a few iterations on the embedded synthetic data instead
#                 (checks the script on a CPU in minutes; numbers meaningless)
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python}
WORK=${WORK:-work_dirs/gpu_benchmark}
EPOCHS=${EPOCHS:-4}
STAGE1_ITERS=${STAGE1_ITERS:-4000}
BATCH=${BATCH:-64}
WORKERS=${WORKERS:-3}
DEVICE=${DEVICE:-cuda}
LEVEL=severe
STRATEGIES=(random in-between motion)

if [ "${SMOKE:-0}" = 1 ]; then
    DS=gymsynth; SCHED=1xb16-u48-16e; STAGE1_CFG_NAME=completion_1xb64-u48-500
    EPOCHS=${EPOCHS_SMOKE:-1}; STAGE1_ITERS=${STAGE1_ITERS_SMOKE:-20}; BATCH=8
    DEVICE=cpu
    SWEEP_OPTS=(--max-samples 12 --ratios 0 0.5 --strategies random in-between)
    BENCH_OPTS=(--max-samples 12 --ratios 0.5)
    SPEED_OPTS=(--iters 2 --warmup 1 --batch-size 4 --clip-len 48
        --finetec-config configs/finetec/finetec_1xb16-u48-16e_gymsynth-severe-keypoint-2d.py
        --baseline-config configs/baselines/stgcnpp/stgcnpp_1xb16-joint-u48-16e_gymsynth-severe-keypoint-2d.py)
    [ -f data/synthetic/gym_synthetic.pkl ] || \
        $PY tools/data/generate_synthetic_gym.py --out data/synthetic/gym_synthetic.pkl
else
    DS=pennaction; SCHED=8xb16-u100-80e; STAGE1_CFG_NAME=completion_1xb64-u100-20k
    SWEEP_OPTS=(); BENCH_OPTS=(); SPEED_OPTS=(--batch-size 64 --clip-len 100)
fi
LR=$($PY -c "print(0.1 * $BATCH / 128)")
PERSIST=$([ "$WORKERS" -gt 0 ] && echo True || echo False)
LOADER_OPTS=()
for loader in train_dataloader val_dataloader test_dataloader; do
    LOADER_OPTS+=($loader.num_workers=$WORKERS $loader.persistent_workers=$PERSIST)
done
STAGE1=configs/finetec/${STAGE1_CFG_NAME}_${DS}-keypoint-2d.py
stgcnpp() { echo "configs/baselines/stgcnpp/stgcnpp_${SCHED/-u/-joint-u}_${DS}-$1-keypoint-2d.py"; }
finetec() { echo "configs/finetec/$1_${SCHED}_${DS}-${LEVEL}-keypoint-2d.py"; }
declare -A CONFIGS=(
    [stgcnpp]=$(stgcnpp $LEVEL)
    [stgcnpp-interp]=$(stgcnpp $LEVEL-interp)
    [stgcnpp-clean]=$(stgcnpp clean)
    [finetec]=$(finetec finetec)
    [finetec-wo-completion]=$(finetec finetec-wo-completion)
    [finetec-wo-decomposition]=$(finetec finetec-wo-decomposition)
    [finetec-wo-physics]=$(finetec finetec-wo-physics)
)
mkdir -p "$WORK/logs"
LOGS=$WORK/logs
STAGE2_OPTS=(train_cfg.max_epochs=$EPOCHS train_cfg.val_interval=$EPOCHS
             param_scheduler.0.T_max=$EPOCHS train_dataloader.batch_size=$BATCH
             optim_wrapper.optimizer.lr=$LR "${LOADER_OPTS[@]}"
             default_hooks.checkpoint.interval=$EPOCHS)
STAMP() { date +%H:%M:%S; }

train() {  # name, extra cfg-options...
    local name=$1; shift
    echo "[$(STAMP)] train $name: ${CONFIGS[$name]}"
    $PY tools/train.py "${CONFIGS[$name]}" --work-dir "$WORK/$name" --seed 0 \
        --cfg-options "${STAGE2_OPTS[@]}" "$@" > "$LOGS/train_$name.log" 2>&1 \
        || echo "[$(STAMP)] FAILED: train $name (see $LOGS/train_$name.log)"
}

echo "[$(STAMP)] stage 1 + stage-1-free models, concurrently"
$PY tools/train.py "$STAGE1" --work-dir "$WORK/stage1" --seed 0 --cfg-options \
    train_cfg.max_iters=$STAGE1_ITERS train_cfg.val_interval=$STAGE1_ITERS \
    param_scheduler.0.T_max=$STAGE1_ITERS default_hooks.checkpoint.interval=$STAGE1_ITERS \
    "${LOADER_OPTS[@]}" > "$LOGS/train_stage1.log" 2>&1 &
STAGE1_PID=$!
for name in stgcnpp stgcnpp-interp stgcnpp-clean finetec-wo-completion; do
    train $name &
done
wait $STAGE1_PID || echo "[$(STAMP)] FAILED: stage 1 (see $LOGS/train_stage1.log)"
echo "[$(STAMP)] stage 1 done; FineTec and the ablations that use it"
for name in finetec finetec-wo-decomposition finetec-wo-physics; do
    train $name model.completion_checkpoint="$WORK/stage1" &
done
wait
echo "[$(STAMP)] training done"

# ---------------------------------------------------------------- tests
ckpt() { cat "$WORK/$1/last_checkpoint" 2>/dev/null; }
for name in "${!CONFIGS[@]}"; do
    [ "$name" = stgcnpp-clean ] && continue
    for strategy in "${STRATEGIES[@]}"; do
        $PY tools/test.py "${CONFIGS[$name]}" "$(ckpt $name)" \
            --work-dir "$WORK/test/$name-$strategy" --cfg-options \
            test_dataloader.dataset.pipeline.1.strategy=$strategy \
            "${LOADER_OPTS[@]}" > "$LOGS/test_$name-$strategy.log" 2>&1 &
    done
    wait
done
echo "[$(STAMP)] tests done"
$PY - "$WORK" <<'EOF'
import glob, json, os, os.path as osp, sys
work = sys.argv[1]
rows = {}
for path in sorted(glob.glob(osp.join(work, 'test', '*', '*', '*.json'))):
    run = osp.basename(osp.dirname(osp.dirname(path)))
    name, strategy = run.rsplit('-', 1) if not run.endswith('in-between') \
        else (run[:-len('-in-between')], 'in-between')
    with open(path) as f:
        res = json.load(f)
    rows.setdefault(name, {})[strategy] = res
strategies = ['random', 'in-between', 'motion']
lines = ['| model | ' + ' | '.join(f'{s} top-1 / mean class' for s in strategies) + ' |',
         '|---|' + '---|' * len(strategies)]
for name in sorted(rows):
    cells = []
    for s in strategies:
        r = rows[name].get(s)
        cells.append('-' if r is None else
                     f"{r['acc/top1']:.4f} / {r['acc/mean1']:.4f}")
    lines.append(f'| {name} | ' + ' | '.join(cells) + ' |')
table = '\n'.join(lines)
print(table)
with open(osp.join(work, 'severe_table.md.tmp'), 'w') as f:
    f.write(table + '\n')
os.replace(osp.join(work, 'severe_table.md.tmp'), osp.join(work, 'severe_table.md'))
EOF

# ----------------------------------------------------------- restoration
$PY tools/analysis/completion_benchmark.py "$STAGE1" "$WORK/stage1" \
    --strategies random in-between burst motion \
    --classifier-config "${CONFIGS[stgcnpp-clean]}" \
    --classifier-checkpoint "$(ckpt stgcnpp-clean)" --device $DEVICE \
    --num-workers $WORKERS "${BENCH_OPTS[@]}" \
    --out-dir "$WORK/completion_benchmark" > "$LOGS/completion_benchmark.log" 2>&1 \
    || echo "[$(STAMP)] FAILED: completion benchmark (see $LOGS/completion_benchmark.log)"
tail -n 40 "$LOGS/completion_benchmark.log"

# ----------------------------------------------------------------- sweep
$PY tools/analysis/corruption_sweep.py \
    "${CONFIGS[finetec]}" "$(ckpt finetec)" \
    "${CONFIGS[stgcnpp]}" "$(ckpt stgcnpp)" \
    "${CONFIGS[stgcnpp-interp]}" "$(ckpt stgcnpp-interp)" \
    --names FineTec ST-GCN++ ST-GCN++-interp --device $DEVICE "${SWEEP_OPTS[@]}" \
    --out-dir "$WORK/sweep" > "$LOGS/sweep.log" 2>&1 \
    || echo "[$(STAMP)] FAILED: sweep (see $LOGS/sweep.log)"
tail -n 30 "$LOGS/sweep.log"

# ----------------------------------------------------------------- speed
for opts in "" "--amp --compile"; do
    [ "$DEVICE" = cpu ] && [ -n "$opts" ] && continue  # compile: GPU only
    $PY tools/analysis/benchmark_speed.py --device $DEVICE "${SPEED_OPTS[@]}" \
        $opts --out "$WORK/speed${opts:+_amp_compile}.json" \
        > "$LOGS/speed${opts:+_amp_compile}.log" 2>&1 \
        || echo "[$(STAMP)] FAILED: speed $opts (see $LOGS/speed${opts:+_amp_compile}.log)"
    tail -n 12 "$LOGS/speed${opts:+_amp_compile}.log"
done
echo "[$(STAMP)] all done: $WORK"
