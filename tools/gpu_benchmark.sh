#!/usr/bin/env bash
# One short run on one GPU: FineTec against stock ST-GCN++ on Penn Action.
#
#   bash tools/gpu_benchmark.sh            # in an environment with the plugin
#                                          # installed and data/penn_action/
#   SCHEDULE=cpu bash tools/gpu_benchmark.sh   # the same on a 2-core CPU
#
# 1. trains (JOBS at a time; a GPU runs them all at once, as stock ST-GCN++
#    is launch-bound): stage 1 (the completion module), stock ST-GCN++ at
#    severe corruption (zero-filled, interpolated, duplicated), ST-GCN++ on clean
#    data, FineTec without ① -- then, once stage 1 is done, FineTec and its
#    ablations without ② and without ③; every stage-2 run but the clean one
#    trains at 75 % random drops (--missing-ratio severe --missing-strategy
#    random, the paper's protocol; the configs themselves train at every level);
# 2. tests every model at severe corruption under random, in-between and
#    motion drops (tools/test.py --missing-strategy, the configs' test
#    pipeline; FineTec's checkpoints carry their completion module);
# 3. restoration table of stage 1 with the clean ST-GCN++ behind it
#    (tools/analysis/completion_benchmark.py);
# 4. the corruption sweep of FineTec and ST-GCN++
#    (tools/analysis/corruption_sweep.py);
# 5. the speed benchmark (GPU: batch 64, clip 100, fp32 then bf16 + compile;
#    CPU: the schedule's batch and clip, one thread per model).
#
# Schedules (SCHEDULE):
#   gpu (default) the Penn Action configs 8xb16-u100-80e (clip 100, 10-clip
#                 test) and completion_1xb64-u100-20k, shortened by the budgets below
#   cpu           the configs 1xb16-u48-6e (clip 48, 1-clip test, 6 epochs,
#                 lr 0.05) and completion_1xb64-u48-1200 as they are; two
#                 single-threaded runs at a time (2 h 15 min on 2 shared cores)
# Budgets (environment variables; the GPU defaults are sized to finish in
# about ten minutes on one H100 -- an estimate, see README; the CPU schedule
# takes its budget from the configs unless these are set):
#   EPOCHS        stage-2 epochs over the configs' RepeatDataset(times=5)
#                 (GPU default 4 = 20 passes over the training split)
#   STAGE1_ITERS  stage-1 iterations (GPU default 4000)
#   BATCH         stage-2 batch size (GPU default 64; lr scaled from 0.1 @ 128)
#   WORKERS       data loader workers per run (GPU default 3)
#   JOBS          trainings / tests at a time (GPU default all, CPU 2)
#   EXTRA_SEEDS   more seeds of the FineTec / ST-GCN++ pair, e.g. "1 2 3 4"
#                 (runs finetec-seedN, stgcnpp-seedN; every model also
#                 trains with seed 0, and the table adds mean ± sd rows)
#   WORK          output folder (default work_dirs/{gpu,cpu}_benchmark)
#   PYTHON        interpreter (default python)
#   SMOKE=1       a few iterations on the embedded synthetic data instead
#                 (checks the script on a CPU in minutes; numbers meaningless)
# A run that finished (its work dir has .done) is not trained again, and a
# test or benchmark whose result file exists is not run again, so an
# interrupted (or extended) benchmark continues where it stopped.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python}
SCHEDULE=${SCHEDULE:-gpu}
LEVEL=severe
STRATEGIES=(random in-between motion)
SWEEP_OPTS=(); BENCH_OPTS=(); STAGE1_CPU_OPTS=()
if [ "${SMOKE:-0}" = 1 ]; then
    DS=gymsynth; SCHED=1xb16-u48-16e; STAGE1_CFG_NAME=completion_1xb64-u48-500
    EPOCHS=${EPOCHS_SMOKE:-1}; STAGE1_ITERS=${STAGE1_ITERS_SMOKE:-20}; BATCH=8
    DEVICE=cpu; WORKERS=${WORKERS:-3}; JOBS=${JOBS:-0}
    SWEEP_OPTS=(--max-samples 12 --ratios 0 0.5 --strategies random in-between)
    BENCH_OPTS=(--max-samples 12 --ratios 0.5)
    SPEED_OPTS=(--iters 2 --warmup 1 --batch-size 4 --clip-len 48)
    [ -f data/synthetic/gym_synthetic.pkl ] || \
        $PY tools/data/generate_synthetic_gym.py --out data/synthetic/gym_synthetic.pkl
elif [ "$SCHEDULE" = cpu ]; then
    DS=pennaction; SCHED=1xb16-u48-6e; STAGE1_CFG_NAME=completion_1xb64-u48-1200
    DEVICE=cpu; JOBS=${JOBS:-2}
    # one thread per run: on 2 shared cores, two single-threaded runs keep
    # both busy with far less step-time noise than one 2-thread run
    export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} MKL_NUM_THREADS=${MKL_NUM_THREADS:-1}
    SWEEP_OPTS=(--max-samples ${SWEEP_SAMPLES:-400})
    # the strategies of the restoration bar (motion adds a third of the time)
    BENCH_OPTS=(--strategies random in-between burst)
    # stage 1 validates 3 times instead of 10 (each pass costs minutes here)
    STAGE1_CPU_OPTS=(train_cfg.val_interval=400 default_hooks.checkpoint.interval=400)
    SPEED_OPTS=(--threads 1 --batch-size 16 --clip-len 48)
else
    DS=pennaction; SCHED=8xb16-u100-80e; STAGE1_CFG_NAME=completion_1xb64-u100-20k
    DEVICE=${DEVICE:-cuda}; JOBS=${JOBS:-0}
    EPOCHS=${EPOCHS:-4}; STAGE1_ITERS=${STAGE1_ITERS:-4000}
    BATCH=${BATCH:-64}; WORKERS=${WORKERS:-3}
    SPEED_OPTS=(--batch-size 64 --clip-len 100)
fi
WORK=${WORK:-work_dirs/${SCHEDULE}_benchmark}
# cfg-options for what was set; the rest comes from the configs
LOADER_OPTS=()
if [ -n "${WORKERS:-}" ]; then
    PERSIST=$([ "$WORKERS" -gt 0 ] && echo True || echo False)
    for loader in train_dataloader val_dataloader test_dataloader; do
        LOADER_OPTS+=($loader.num_workers=$WORKERS $loader.persistent_workers=$PERSIST)
    done
fi
STAGE1_OPTS=("${LOADER_OPTS[@]}" "${STAGE1_CPU_OPTS[@]}")
if [ -n "${STAGE1_ITERS:-}" ]; then
    STAGE1_OPTS+=(train_cfg.max_iters=$STAGE1_ITERS train_cfg.val_interval=$STAGE1_ITERS
        param_scheduler.0.T_max=$STAGE1_ITERS default_hooks.checkpoint.interval=$STAGE1_ITERS)
fi
STAGE2_OPTS=("${LOADER_OPTS[@]}")
if [ -n "${EPOCHS:-}" ]; then
    STAGE2_OPTS+=(train_cfg.max_epochs=$EPOCHS param_scheduler.0.T_max=$EPOCHS
        default_hooks.checkpoint.interval=$EPOCHS)
fi
if [ -n "${BATCH:-}" ]; then
    STAGE2_OPTS+=(train_dataloader.batch_size=$BATCH
        optim_wrapper.optimizer.lr=$($PY -c "print(0.1 * $BATCH / 128)"))
fi
# validate once, after the last epoch (the test step below scores each model)
STAGE2_OPTS+=(train_cfg.val_interval=${EPOCHS:-1000})
STAGE1=configs/finetec/${STAGE1_CFG_NAME}_${DS}-keypoint-2d.py
# the roots and their -interp / -dup / -clean children; the level is set on
# the command line (LEVEL_OPTS)
stgcnpp() { echo "configs/baselines/stgcnpp/stgcnpp_${SCHED/-u/-joint-u}_${DS}${1:-}-keypoint-2d.py"; }
finetec() { echo "configs/finetec/$1_${SCHED}_${DS}-keypoint-2d.py"; }
LEVEL_OPTS=(--missing-ratio $LEVEL --missing-strategy random)
declare -A CONFIGS=(
    [stgcnpp]=$(stgcnpp)
    [stgcnpp-interp]=$(stgcnpp -interp)
    [stgcnpp-dup]=$(stgcnpp -dup)
    [stgcnpp-clean]=$(stgcnpp -clean)
    [finetec]=$(finetec finetec)
    [finetec-wo-completion]=$(finetec finetec-wo-completion)
    [finetec-wo-decomposition]=$(finetec finetec-wo-decomposition)
    [finetec-wo-physics]=$(finetec finetec-wo-physics)
)
# the CPU schedules time their own FineTec / ST-GCN++ pair (the GPU one the
# speed tool's default pair, at the benchmark's batch and clip)
if [ "$SCHED" != 8xb16-u100-80e ]; then
    SPEED_OPTS+=(--finetec-config "${CONFIGS[finetec]}"
                 --baseline-config "${CONFIGS[stgcnpp]}")
fi
mkdir -p "$WORK/logs"
LOGS=$WORK/logs
STAMP() { date +%H:%M:%S; }

slot() {  # wait for a free slot (JOBS=0: no limit)
    [ "$JOBS" -gt 0 ] || return 0
    while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n; done
}

# run names: a model of CONFIGS, or <model>-seed<N> for its run with seed N
model_of() { echo "${1%-seed*}"; }
seed_of() { [[ $1 == *-seed* ]] && echo "${1##*-seed}" || echo 0; }

train() {  # name, config, extra cfg-options...
    local name=$1 config=$2 level=("${LEVEL_OPTS[@]}"); shift 2
    if [ -f "$WORK/$name/.done" ]; then
        echo "[$(STAMP)] $name: trained before ($WORK/$name/.done), kept"; return
    fi
    # stage 1 keeps its own corruption; the clean model has none
    case $(model_of $name) in stage1|stgcnpp-clean) level=() ;; esac
    echo "[$(STAMP)] train $name: $config ${level[*]}"
    $PY tools/train.py "$config" --work-dir "$WORK/$name" --seed "$(seed_of $name)" \
        "${level[@]}" --cfg-options "$@" > "$LOGS/train_$name.log" 2>&1 \
        && touch "$WORK/$name/.done" \
        || echo "[$(STAMP)] FAILED: train $name (see $LOGS/train_$name.log)"
}

echo "[$(STAMP)] training, ${JOBS/#0/all} at a time"
slot; train stage1 "$STAGE1" "${STAGE1_OPTS[@]}" &
STAGE1_PID=$!
# in order of priority; FineTec and two of its ablations load stage 1, so
# they start once it is done and the others fill the slots meanwhile
QUEUE=(stgcnpp finetec-wo-completion finetec stgcnpp-clean
       finetec-wo-decomposition finetec-wo-physics stgcnpp-interp stgcnpp-dup)
for seed in ${EXTRA_SEEDS:-}; do
    [ "$seed" = 0 ] || QUEUE+=(stgcnpp-seed$seed finetec-seed$seed)
done
RUNS=("${QUEUE[@]}")  # every stage-2 run, for the tests
while [ ${#QUEUE[@]} -gt 0 ]; do
    slot
    stage1_done=$(kill -0 $STAGE1_PID 2>/dev/null && echo 0 || echo 1)
    picked=
    for i in "${!QUEUE[@]}"; do
        name=${QUEUE[$i]}
        config=${CONFIGS[$(model_of $name)]}
        case $(model_of $name) in finetec|finetec-wo-decomposition|finetec-wo-physics)
            [ $stage1_done = 1 ] || continue
            train $name "$config" "${STAGE2_OPTS[@]}" \
                model.completion_checkpoint="$WORK/stage1" & ;;
        *)  train $name "$config" "${STAGE2_OPTS[@]}" & ;;
        esac
        picked=$i; break
    done
    if [ -n "$picked" ]; then
        unset "QUEUE[$picked]"; QUEUE=("${QUEUE[@]}")
    else
        sleep 5  # only stage 1's users left
    fi
done
wait
[ -f "$WORK/stage1/.done" ] || echo "[$(STAMP)] FAILED: stage 1 (see $LOGS/train_stage1.log)"
echo "[$(STAMP)] training done"

# ---------------------------------------------------------------- tests
ckpt() { cat "$WORK/$1/last_checkpoint" 2>/dev/null; }
done_before() {  # result file(s) exist: say so and skip the step
    compgen -G "$1" > /dev/null || return 1
    echo "[$(STAMP)] $2: result exists ($1), kept"
}
TEST_OPTS=()
[ ${#LOADER_OPTS[@]} -gt 0 ] && TEST_OPTS=(--cfg-options "${LOADER_OPTS[@]}")
for name in "${RUNS[@]}"; do
    [ "$name" = stgcnpp-clean ] && continue
    for strategy in "${STRATEGIES[@]}"; do
        done_before "$WORK/test/$name-$strategy/*/*.json" \
            "test $name $strategy" && continue
        $PY tools/test.py "${CONFIGS[$(model_of $name)]}" "$(ckpt $name)" \
            --work-dir "$WORK/test/$name-$strategy" \
            --missing-ratio $LEVEL --missing-strategy $strategy \
            "${TEST_OPTS[@]}" > "$LOGS/test_$name-$strategy.log" 2>&1 &
        slot
    done
    [ "$JOBS" -gt 0 ] || wait  # all at once: one model's three tests
done
wait
echo "[$(STAMP)] tests done"
$PY tools/analysis/benchmark_table.py "$WORK" --strategies "${STRATEGIES[@]}" \
    || echo "[$(STAMP)] FAILED: table"

# ------------------- restoration beside the sweep, then the speed benchmark
done_before "$WORK/completion_benchmark/completion_benchmark.json" restoration \
|| $PY tools/analysis/completion_benchmark.py "$STAGE1" "$WORK/stage1" \
    --strategies random in-between burst motion \
    --classifier-config "${CONFIGS[stgcnpp-clean]}" \
    --classifier-checkpoint "$(ckpt stgcnpp-clean)" --device $DEVICE \
    --num-workers ${WORKERS:-1} "${BENCH_OPTS[@]}" \
    --out-dir "$WORK/completion_benchmark" > "$LOGS/completion_benchmark.log" 2>&1 \
    || echo "[$(STAMP)] FAILED: completion benchmark (see $LOGS/completion_benchmark.log)" &
done_before "$WORK/sweep/corruption_sweep.json" sweep \
|| $PY tools/analysis/corruption_sweep.py \
    "${CONFIGS[finetec]}" "$(ckpt finetec)" \
    "${CONFIGS[stgcnpp]}" "$(ckpt stgcnpp)" \
    "${CONFIGS[stgcnpp-interp]}" "$(ckpt stgcnpp-interp)" \
    --names FineTec ST-GCN++ ST-GCN++-interp --device $DEVICE "${SWEEP_OPTS[@]}" \
    --out-dir "$WORK/sweep" > "$LOGS/sweep.log" 2>&1 \
    || echo "[$(STAMP)] FAILED: sweep (see $LOGS/sweep.log)"
wait
# the logs of what ran now (a kept result's log is older than the table)
for log in "$LOGS/sweep.log" "$LOGS/completion_benchmark.log"; do
    [ "$log" -nt "$WORK/severe_table.md" ] && tail -n 40 "$log"
done

# speed alone on the machine, so that nothing else shares it
for opts in "" "--amp --compile"; do
    [ "$DEVICE" = cpu ] && [ -n "$opts" ] && continue  # compile: GPU only
    run=speed${opts:+_amp_compile}
    done_before "$WORK/$run.json" "speed $opts" && continue
    $PY tools/analysis/benchmark_speed.py --device $DEVICE "${SPEED_OPTS[@]}" \
        $opts --out "$WORK/$run.json" > "$LOGS/$run.log" 2>&1 \
        || echo "[$(STAMP)] FAILED: speed $opts (see $LOGS/$run.log)"
    tail -n 12 "$LOGS/$run.log"
done
echo "[$(STAMP)] all done: $WORK"
