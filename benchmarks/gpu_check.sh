#!/usr/bin/env bash
# The GPU check of docs/backends.md: one short run on a lent NVIDIA machine (JAX and PyTorch, no
# TensorFlow, no network, Python 3.12). Prepare here, in the project's root:
#
#   echo /.whl/ >> .git/info/exclude
#   python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 -d .whl keras namex optree \
#       --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 --platform any
#   NST_WEIGHTS=... .venv/bin/python benchmarks/half_weights.py .whl/vgg19_half.weights.h5   # 38 MiB
#
# then run `bash benchmarks/gpu_check.sh` there, carrying .whl (timeout about 500 s). It writes
# its tables and JSON rows under $OUT. SIZES and BACKENDS override what it measures (a dry run
# on the CPU: SIZES="128 256" BACKENDS=jax OUT=/tmp/check bash benchmarks/gpu_check.sh).
set -uo pipefail
OUT=${OUT:-/tmp/nst-gpu-check}
mkdir -p "$OUT"
if ls .whl/*.whl >/dev/null 2>&1; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
        || exit 1
    export PYTHONPATH=/tmp/site
fi
export PYTHONPATH=$PWD/src${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1
[ -f .whl/vgg19_half.weights.h5 ] && export NST_WEIGHTS=$PWD/.whl/vgg19_half.weights.h5
PYTHON=${PYTHON:-python3}
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>&1 | tee "$OUT/gpu.txt"
for backend in ${BACKENDS:-jax torch}; do
    echo "== $backend: step against the bare VGG19 pass"
    KERAS_BACKEND=$backend timeout 240 $PYTHON benchmarks/step_cost.py --sizes ${SIZES:-512 2048 4096} --repeats 8 \
        --json "$OUT/steps-$backend.json" 2>&1 | tee -a "$OUT/log.txt"
done
backend=${BACKENDS:-jax}
backend=${backend%% *}
quality_size=${QUALITY_SIZE:-512}
echo "== $backend: seconds to the spec loop's objective at $quality_size px"
KERAS_BACKEND=$backend timeout 150 $PYTHON benchmarks/time_to_quality.py --record-reference --sizes "$quality_size" \
    --curves "$OUT/reference_curves.json" 2>&1 | tee -a "$OUT/log.txt"
echo "== $backend: the largest size that fits without tiles (a failed size is out of memory)"
KERAS_BACKEND=$backend timeout 120 $PYTHON benchmarks/step_cost.py --random-weights --repeats 1 \
    --sizes ${LARGEST_SIZES:-6144 8192 10240} 2>&1 | tee -a "$OUT/log.txt"
