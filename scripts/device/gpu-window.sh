#!/usr/bin/env bash
# One GPU window: continue training the base model from .gpu-window/init.safetensors on
# .gpu-window/train.pack (scripts/device/prepare-gpu-window.sh makes both) for a fixed wall-clock
# budget, and leave the checkpoint in $OUT as three files under 16 MiB each (weights, Adam m, Adam v;
# python -m python.earshot_torch.state_files join puts them back together) plus the log.
# On the device machine (one NVIDIA GPU, no network, no Node): bf16 autocast, data loading on the
# CPU cores. The same command runs on a CPU (fp32) for a check: BUDGET=60 OUT=/tmp/gw scripts/device/gpu-window.sh
#
#   BUDGET  seconds of training (default 420: with start-up and packing the state, under 9 minutes)
#   OUT     where the checkpoint goes (the device tool's $OUT there)
set -euo pipefail
cd "$(dirname "$0")/../.."
BUDGET=${BUDGET:-420}
OUT=${OUT:?set OUT to the folder the checkpoint should go to}
BATCH_FRAMES=${BATCH_FRAMES:-16000}
PY=${PYTHON:-}
if [ -z "$PY" ]; then
  for p in python3 /usr/bin/python3; do
    if "$p" -c 'import torch' 2>/dev/null; then PY=$p; break; fi
  done
fi
[ -n "$PY" ] || { echo "no python3 with PyTorch found (set PYTHON)" >&2; exit 1; }
[ -f .gpu-window/train.pack ] || { echo ".gpu-window/train.pack is missing: run scripts/device/prepare-gpu-window.sh first and carry .gpu-window" >&2; exit 1; }
mkdir -p "$OUT"
RUN=$(mktemp -d)
WORKERS=$(( $(nproc) > 4 ? $(nproc) - 2 : 0 ))
export PYTHONUNBUFFERED=1
"$PY" -c 'import torch; print({"torch": torch.__version__, "cuda": torch.cuda.is_available(), "device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu"})' | tee "$OUT/train.log"
# a warm restart of the recipe's schedule, short warmup, peak below the base recipe's 2e-3 (the
# weights are trained already); the cosine is fitted to the budget after 10 steps
"$PY" python/earshot_torch/train.py --manifest .gpu-window/train.pack --init .gpu-window/init.safetensors --out "$RUN" \
  --time-budget "$BUDGET" --fit-schedule --steps 1000000 --warmup 50 --peak-lr 5e-4 --batch-frames "$BATCH_FRAMES" \
  --workers "$WORKERS" --ckpt-every 200 --log-every 20 --no-export 2>&1 | tee -a "$OUT/train.log"
"$PY" -m python.earshot_torch.state_files split "$RUN/state.safetensors" "$OUT"
rm -rf "$RUN"
ls -l "$OUT"
