#!/usr/bin/env bash
# One call on a GPU machine: the GPU tests, the nvcc compile check and the quick benchmarks.
#
#   OUT=/some/dir bash benchmarks/gpu_check.sh
#
# Works offline: it uses the machine's own CuPy (cupy-cuda12x or cupy-cuda13x), runs gpumath
# from this source tree, and installs array-api-compat from wheels in .whl/ when the machine
# lacks it (see README, "Checking on a GPU machine"). Everything it prints is also written
# under $OUT (default ./gpu-check-out). Exit status: non-zero if any step failed.
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=${OUT:-$ROOT/gpu-check-out}
PY=${PYTHON:-python3}
mkdir -p "$OUT"
export HYPOTHESIS_PROFILE=ci GPUMATH_REQUIRE_GPU=1

if ! "$PY" -c "import array_api_compat" 2>/dev/null; then
  if ls .whl/*.whl >/dev/null 2>&1; then
    "$PY" -m pip install -q --no-index --no-deps --target .site .whl/*.whl || exit 1
    export PYTHONPATH=$ROOT/.site:${PYTHONPATH:-}
  else
    echo "array-api-compat is missing and no wheel is in .whl/" | tee "$OUT/summary.txt"
    exit 1
  fi
fi
export PYTHONPATH=$ROOT:${PYTHONPATH:-}

failed=""
step() {  # step NAME SECONDS CMD...: run with a time limit, keep its output under $OUT
  local name=$1 limit=$2
  shift 2
  echo "=== $name"
  local start=$SECONDS
  timeout "$limit" "$@" > "$OUT/$name.txt" 2>&1
  local rc=$?
  tail -n 60 "$OUT/$name.txt"
  echo "=== $name: exit $rc after $((SECONDS - start)) s"
  [ $rc -eq 0 ] || failed="$failed $name"
}

step info 60 "$PY" -m gpumath info
step pytest-gpu 210 "$PY" -m pytest -m gpu -q -p no:cacheprovider tests
step compile-check 120 "$PY" -m gpumath check-kernels --json "$OUT/compile-check.json"
step bench 150 "$PY" -m gpumath bench --quick --out "$OUT/bench"

if [ -n "$failed" ]; then
  echo "gpu_check FAILED:$failed" | tee "$OUT/summary.txt"
  exit 1
fi
echo "gpu_check passed" | tee "$OUT/summary.txt"
