#!/usr/bin/env bash
# The whole GPU run in one command, on the GPU machine, from the repository root:
#
#     bash tests/gpu/device_run.sh
#
# Needs .gpu-carry/ beside it, made on a CPU machine by tests/gpu/prepare_carry.py (and
# carried: the device tool's `carry: [".gpu-carry"]`). Offline: installs the carried
# wheels and serbench with its plugins into a private folder (PYTHONPATH; the machine's
# own torch, numpy, scipy, ... are used), unpacks the corpus manifest and feature caches,
# then runs
#   1. the GPU suite (pytest -m gpu, tests/gpu/): cells vs references, CUDA-event clock,
#      cells vs cuDNN (ratios JSON), every torch model one epoch on one fold;
#   2. the leaderboard timing runs at fp32 and bf16 (tests/gpu/timing_runs.py),
# within about 8 minutes (STEP budgets below), writing into $OUT (default ./.gpu-out):
#   device_run.log, environment.txt, gpu_cell_ratios.json, gpu_suite.xml,
#   timing_summary.json, runs.tar.gz (run records and predictions).
# Exit status: 0 when both steps passed, else the first failing step's status.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 2
OUT="${OUT:-$PWD/.gpu-out}"
CARRY="${SERBENCH_GPU_CARRY:-$PWD/.gpu-carry}"
SITE="${SERBENCH_GPU_SITE:-/tmp/serbench-site}"
WORK="${SERBENCH_GPU_WORK:-/tmp/serbench-gpu}"
SUITE_S="${SERBENCH_GPU_SUITE_S:-300}"   # the suite's limit
TOTAL_S="${SERBENCH_GPU_TOTAL_S:-450}"   # no timing run starts after this (8 min = 480 s)
mkdir -p "$OUT"
exec > >(tee -a "$OUT/device_run.log") 2>&1
start=$(date +%s)
elapsed() { echo $(( $(date +%s) - start )); }
step() { echo "== $(elapsed) s: $*"; }

step "install (offline) into $SITE"
if [ ! -f "$CARRY/carry.json" ]; then
    echo "no $CARRY/carry.json: run tests/gpu/prepare_carry.py on a CPU machine and carry .gpu-carry"
    exit 2
fi
rm -rf "$SITE" "$WORK" && mkdir -p "$SITE" "$WORK" || exit 2
tar -xJf "$CARRY/polars-runtime.tar.xz" -C "$SITE" || exit 2
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target "$SITE" \
    "$CARRY"/wheels/*.whl || exit 2
plugins=(plugins/*/pyproject.toml)  # every paper plugin, as tox installs them
python3 -m pip install -q --no-index --no-deps --no-build-isolation --no-cache-dir \
    --target "$SITE" . "${plugins[@]%/pyproject.toml}" || exit 2
tar -xJf "$CARRY/data.tar.xz" -C "$WORK" || exit 2
export PYTHONPATH="$SITE${PYTHONPATH:+:$PYTHONPATH}"
export SERBENCH_DATA="$WORK/serbench-data" SERBENCH_CACHE="$WORK/serbench-cache"
export SERBENCH_RUNS="$WORK/runs" SERBENCH_AUDIO_CHECK=0 PYTHONUNBUFFERED=1
export SERBENCH_GPU_RATIOS="$OUT/gpu_cell_ratios.json"
python3 - <<'EOF' | tee "$OUT/environment.txt"
import platform, torch, polars, serbench
from serbench.plugins import get_registry
print("python", platform.python_version(), "torch", torch.__version__, "cuda", torch.version.cuda)
print("device", torch.cuda.get_device_name() if torch.cuda.is_available() else "NO CUDA")
print("bf16", torch.cuda.is_available() and torch.cuda.is_bf16_supported())
print("polars", polars.__version__, "serbench from", serbench.__file__)
print("models", ", ".join(get_registry().names("model")))
EOF

step "GPU suite (limit $SUITE_S s)"
timeout "$SUITE_S" python3 -m pytest -m gpu -p no:cacheprovider -v -rs --durations=15 \
    --junitxml="$OUT/gpu_suite.xml" tests/gpu/test_gpu_cells.py tests/gpu/test_gpu_timing.py \
    tests/gpu/test_gpu_cell_speed.py tests/gpu/test_gpu_models.py
suite_rc=$?
step "GPU suite exit status $suite_rc"

left=$(( TOTAL_S - $(elapsed) ))
step "timing runs at fp32 and bf16 (none starts after $left s)"
python3 tests/gpu/timing_runs.py --runs-dir "$WORK/runs" --deadline "$left"
timing_rc=$?
cp "$WORK/runs/timing_summary.json" "$OUT/" 2>/dev/null
tar -czf "$OUT/runs.tar.gz" -C "$WORK" runs
step "done: suite $suite_rc, timing runs $timing_rc; files in $OUT"
[ "$suite_rc" -ne 0 ] && exit "$suite_rc"
exit "$timing_rc"
