#!/usr/bin/env bash
# The GPU check of docs/backends.md (issue 24): one short run on a lent NVIDIA machine (JAX and
# PyTorch, no TensorFlow, no network, Python 3.12, 15 minutes of device time in all).
#
# Prepare here, in the project's root, once: `bash benchmarks/gpu_prepare.sh` (.whl/, about 45 MiB:
# Keras, namex, optree, Ray trimmed, jsonschema and its three; a 720p clip as frames). Then, on the
# machine, carrying .whl (run's carry: [".whl"]):
#
#   bash benchmarks/gpu_check.sh                          # timeout_s 360: BUDGET_S (300) and a margin
#   PARTS="print-torch video batch largest" bash benchmarks/gpu_check.sh   # a second try: what was left
#
# Its parts, in this order (PARTS chooses, by family or by name; each under `timeout`, none started
# with under 20 s of BUDGET_S left; the last line says which were left, for a second try):
#   picture  the default 512 px picture (nst's defaults: the painting ladder), compiling apart (picture_time.py)
#   steps    a step of Adam and of L-BFGS against the bare VGG19 pass at 512, 2048, 4096 px (step_cost.py)
#   print    a 4096 px print, the default ladder: its time and peak device memory (picture_time.py)
#   video    nst video on 24 frames at 1280x720 (the walkers clip): frames per second (video_speed.py)
#   batch    nst batch on a local Ray: 4 pictures at 512 px, a worker on the GPU by default
#   largest  the largest size a step fits whole: 6144, 8192, 10240 px (step_cost.py, 1 step each)
# picture, steps and print on each of BACKENDS (default "jax torch", named picture-jax...); video on
# the first (JAX: its frames share one compiled step), batch and largest on the last (PyTorch: no
# compiling, which they would pay per item and per size). Timings do not depend on VGG19's
# weights: without NST_WEIGHTS it makes an untrained
# one (seeded) and the losses mean nothing. Everything it prints, and its JSON rows, go to $OUT.
#
# A dry run on a CPU, every part at tiny sizes, with this checkout's .venv and without installing
# the wheels (they are Python 3.12's; it checks that they are whole):
#   DRY_RUN=1 BUDGET_S=3000 OUT=/tmp/gpu-check bash benchmarks/gpu_check.sh
set -uo pipefail
OUT=${OUT:-/tmp/nst-gpu-check}
BUDGET_S=${BUDGET_S:-300}
PARTS=${PARTS:-picture steps print video batch largest}
BACKENDS=${BACKENDS:-jax torch}
FIRST=${BACKENDS%% *}
LAST=${BACKENDS##* }
mkdir -p "$OUT"
if [ -n "${DRY_RUN:-}" ]; then
    PYTHON=${PYTHON:-.venv/bin/python}
    PICTURE_SIZE=64 PICTURE_STEPS=10 STEP_SIZES="64 96" PRINT_SIZE=160 VIDEO_SIZE=64 VIDEO_FRAMES=3 BATCH_SIZE=32
    LARGEST_SIZES="96 128"
    for wheel in .whl/*.whl; do $PYTHON -m zipfile -t "$wheel" >/dev/null || exit 1; done
else
    PYTHON=${PYTHON:-python3}
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
        || exit 1
    export PYTHONPATH=/tmp/site
fi
export PYTHONPATH=$PWD/src${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1
# JAX takes 75% of the GPU's memory at its start unless told: the largest sizes need more.
export XLA_PYTHON_CLIENT_MEM_FRACTION=${XLA_PYTHON_CLIENT_MEM_FRACTION:-0.95}
if [ -z "${NST_WEIGHTS:-}" ]; then
    export NST_WEIGHTS=/tmp/vgg19-untrained.weights.h5
    KERAS_BACKEND=$FIRST $PYTHON -c "import keras, sys; keras.utils.set_random_seed(0)
keras.applications.VGG19(include_top=False, weights=None).save_weights(sys.argv[1])" "$NST_WEIGHTS" || exit 1
fi
(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv || echo "no nvidia-smi") > "$OUT/gpu.txt" 2>&1
cat "$OUT/gpu.txt"
started=$SECONDS
left=()

part() {  # part NAME CAP_S COMMAND...: the command under `timeout`, its output in $OUT/NAME.txt
    local name=$1 cap=$2 remaining=$((BUDGET_S - (SECONDS - started)))
    shift 2
    [ "$remaining" -lt "$cap" ] && cap=$remaining
    if [ "$cap" -lt 20 ]; then
        left+=("$name")
        return
    fi
    echo "== $name (at most ${cap} s; $((SECONDS - started)) s so far)"
    timeout "$cap" "$@" 2>&1 | tee "$OUT/$name.txt"
    local status=${PIPESTATUS[0]}
    echo "== $name: exit $status after $((SECONDS - started)) s"
    [ "$status" -eq 0 ] || left+=("$name")  # out of time (124) or failed: for the second try too
}

wanted() { [[ " $PARTS " == *" $1 "* || " $PARTS " == *" ${1%%-*} "* ]]; }  # by name, or by family

for backend in $BACKENDS; do
    wanted "picture-$backend" && part "picture-$backend" 120 env KERAS_BACKEND=$backend $PYTHON benchmarks/picture_time.py \
        --size "${PICTURE_SIZE:-512}" ${PICTURE_STEPS:+--steps $PICTURE_STEPS} --json "$OUT/picture-$backend.json"
done
for backend in $BACKENDS; do
    wanted "steps-$backend" && part "steps-$backend" 240 env KERAS_BACKEND=$backend $PYTHON benchmarks/step_cost.py \
        --sizes ${STEP_SIZES:-512 2048 4096} --repeats 5 --json "$OUT/steps-$backend.json"
done
for backend in $BACKENDS; do
    wanted "print-$backend" && part "print-$backend" 180 env KERAS_BACKEND=$backend $PYTHON benchmarks/picture_time.py \
        --size "${PRINT_SIZE:-4096}" ${PICTURE_STEPS:+--steps $PICTURE_STEPS} --json "$OUT/print-$backend.json"
done
if wanted video; then
    frames=$OUT/frames-in
    mkdir -p "$frames"
    cp $(ls .whl/walkers-720p/*.jpg | head -n "${VIDEO_FRAMES:-24}") "$frames/"
    part video 150 env KERAS_BACKEND=$FIRST $PYTHON benchmarks/video_speed.py "$frames" \
        --size "${VIDEO_SIZE:-1280}" --out "$OUT/frames-out"
    rm -rf "$frames" "$OUT/frames-out"
fi
if wanted batch; then
    # A local Ray sees the GPU and gives the one worker it by default; each report names its device.
    part batch 150 env KERAS_BACKEND=$LAST $PYTHON -m nst batch src/nst/examples/photos/ \
        --style src/nst/examples/paintings/starry-night.jpg --style src/nst/examples/paintings/the-scream.jpg \
        -o "$OUT/batch" --size "${BATCH_SIZE:-512}" --quiet
    [ -f "$OUT/batch/summary.json" ] && $PYTHON -c "import json, pathlib, sys; folder = pathlib.Path(sys.argv[1])
summary = json.loads((folder / 'summary.json').read_text())
print('workers', summary['workers'], 'wall', summary['wall_s'], 's', summary['counts'])
for row in summary['items']:
    report = folder / pathlib.Path(row['output']).with_suffix('.json').name
    device = json.loads(report.read_text())['params']['device'] if report.is_file() else None
    print(row['status'], row['seconds'], 's', row['overhead_s'], 's overhead', device, row['error'] or '')" \
        "$OUT/batch" 2>&1 | tee -a "$OUT/batch.txt"
    rm -f "$OUT"/batch/*.png
fi
wanted largest && part largest 150 env KERAS_BACKEND=$LAST $PYTHON benchmarks/step_cost.py --repeats 1 \
    --sizes ${LARGEST_SIZES:-6144 8192 10240} --json "$OUT/largest.json"
echo "== done in $((SECONDS - started)) s; left for a second try: PARTS=\"${left[*]}\"" | tee "$OUT/left.txt"
