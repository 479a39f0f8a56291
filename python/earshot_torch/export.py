"""Writes a model directory (model.onnx built by our own engine) from a training state or weights:

  /usr/bin/python3 -m python.earshot_torch.export --state run/state.safetensors --out run/model [--base public/models/base]

For runs whose machine has no Node (train.py --no-export), e.g. a GPU machine: bring the state back,
export here."""

import argparse
import os

from .model_dir import load_init, write_model_dir
from .safetensors_io import read_safetensors


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--state", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--base", default=None, help="model directory whose lm.arpa and decoder settings the new model keeps")
    a = ap.parse_args()
    config, weights, state = load_init(a.state)
    meta = read_safetensors(a.state)[1] if not os.path.isdir(a.state) else {}
    step = int(float(meta["step"])) if "step" in meta else config.get("provenance", {}).get("step")
    write_model_dir(a.out, config, {n: w.reshape(-1) for n, w in weights.items()},
                    card=f"# Earshot model trained with PyTorch\n\nExported from `{a.state}`" + (f" at step {step}" if step is not None else "") + ".\n",
                    provenance={"torch_steps": step, "trainer": "python/earshot_torch/train.py"}, base_dir=a.base)
    print(a.out)


if __name__ == "__main__":
    main()
