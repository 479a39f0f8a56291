"""Writes a model directory (model.onnx built by our own engine) from a training state or weights:

  /usr/bin/python3 -m python.earshot_torch.export --state run/state.safetensors --out run/model [--base public/models/base]

For runs whose machine has no Node (train.py --no-export), e.g. a GPU machine: bring the state back,
export here."""

import argparse

from .model_dir import load_init, write_model_dir


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--state", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--base", default=None, help="model directory whose lm.arpa and decoder settings the new model keeps")
    a = ap.parse_args()
    config, weights, state = load_init(a.state)
    step = int(float(state["meta"].get("step", 0))) if state else None
    write_model_dir(a.out, config, {n: w.reshape(-1) for n, w in weights.items()},
                    card=f"# Earshot model trained with PyTorch\n\nExported from `{a.state}`" + (f" at step {step}" if step is not None else "") + ".\n",
                    provenance={"step": step, "trainer": "python/earshot_torch/train.py"}, base_dir=a.base)
    print(a.out)


if __name__ == "__main__":
    main()
