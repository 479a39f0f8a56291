#!/usr/bin/env bash
# Prepares what a GPU window carries (scripts/device/gpu-window.sh runs it there): .gpu-window/,
# ignored by git here (.git/info/exclude) and named in the device run's `carry`.
#   .gpu-window/init.safetensors  the weights to continue from, with their config.json (~10 MiB)
#   .gpu-window/train.pack        base-training speech (speechocean762/train, librispeech_train28,
#                                 train_extra), decoded and labelled by our own TypeScript, as 8-bit
#                                 µ-law at 16 kHz (16 KB per second of speech): a seeded sample of
#                                 all three that fills what the 64 MiB upload leaves after the
#                                 working tree and the weights (~35 minutes of speech)
# The GPU machine has PyTorch but neither Node nor audio codecs, hence the packing here.
#
#   scripts/device/prepare-gpu-window.sh [INIT]     INIT: a model directory or a training state
#                                                   (default: public/models/base)
set -euo pipefail
cd "$(dirname "$0")/../.."
INIT=${1:-public/models/base}
SPEECH=${SPEECH:-../shared/speech}
PY=${PYTHON:-/usr/bin/python3}
mkdir -p .gpu-window
grep -qx '/.gpu-window/' .git/info/exclude 2>/dev/null || echo '/.gpu-window/' >> "$(git rev-parse --git-path info/exclude)"

# the weights alone (a training state's Adam moments would triple the size): fresh moments there
"$PY" - "$INIT" <<'PY'
import json, sys
sys.path.insert(0, ".")
from python.earshot_torch.model_dir import load_init
from python.earshot_torch.safetensors_io import write_safetensors
config, weights, state = load_init(sys.argv[1])
step = int(float(state["tensors"]["optim.step"].reshape(-1)[0])) if state else config.get("provenance", {}).get("step", 0)
config["provenance"] = {**config.get("provenance", {}), "continued_from": sys.argv[1], "step": step}
write_safetensors(".gpu-window/init.safetensors", {n: w.reshape(-1) for n, w in weights.items()}, {"config": json.dumps(config)})
print(json.dumps({"init": sys.argv[1], "step": step, "tensors": len(weights)}))
PY

# what travels besides the pack: the working tree (tracked and untracked-not-ignored files) and the weights
TREE=$(git ls-files -co --exclude-standard -z | xargs -0 stat -c %s 2>/dev/null | awk '{s+=$1} END {print s}')
INIT_BYTES=$(stat -c %s .gpu-window/init.safetensors)
MB=$(awk -v t="$TREE" -v i="$INIT_BYTES" 'BEGIN {printf "%d", (64 * 2^20 - t - i) / 2^20 - 3}')
echo "working tree $((TREE / 1024)) KiB, weights $((INIT_BYTES / 1024)) KiB: the pack gets ${MB} MiB" >&2
npx --no-install tsx scripts/torch/pack-audio.ts --codec mulaw --max-mb "$MB" --out .gpu-window/train.pack \
  --manifest "$SPEECH/speechocean762/train/manifest.jsonl,$SPEECH/librispeech_train28/manifest.jsonl,$SPEECH/train_extra/manifest.jsonl"
du -sh .gpu-window
