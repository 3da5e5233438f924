#!/bin/sh
# The device run behind docs/benchmarks.md: lesson 08 end to end, `bench --gpu`, and the
# training entry point under torchrun (one process). Run from the repository root with the
# wheels of what the machine lacks in .whl/ (see docs/benchmarks.md) and OUT set to a folder.
set -u
OUT=${OUT:-out/gpu}; mkdir -p "$OUT/lesson08"
export PYTHONUNBUFFERED=1 PYTHONPATH=/tmp/site:$PWD
DATA=${DATA:-/tmp/ssdc}
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
    >/dev/null 2>&1 || { echo "pip install of .whl failed"; exit 1; }
[ -n "${SKIP_LESSON:-}" ] || {
  date -u; nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader; nproc
  python3 -c "import sys, torch, torchvision, fastai, torchmetrics; print(sys.version.split()[0], torch.__version__, torch.version.cuda, torchvision.__version__, fastai.__version__, torchmetrics.__version__)"
  echo "== lesson 08"
  start=$(date +%s)
  timeout ${LESSON_S:-300} python3 -m ssd_course run-lessons "$OUT/lesson08" --only 08 --data "$DATA" --no-html
  rc=$?; echo "lesson 08 wall: $(( $(date +%s) - start )) s (rc $rc)"
} 2>&1 | tee "$OUT/lesson08.log"
timeout ${BENCH_S:-140} python3 -m ssd_course bench --gpu --epochs ${EPOCHS:-4} --data "$DATA/bench" \
    --json "$OUT/bench.json" 2>&1 | grep -v -e "^note:" | tee "$OUT/bench.log"
timeout ${DIST_S:-45} torchrun --standalone --nproc_per_node 1 -m ssd_course.distributed --config gpu \
    --data "$DATA/bench" --epochs 2 2>&1 | grep -v -e "Epoch " | tee "$OUT/torchrun.log"
