#!/usr/bin/python3
"""Exports an Earshot model directory through a foreign exporter: the PyTorch twin
(python/earshot_torch/model.py) loads the weights and torch.onnx.export writes the graph, so the
importer meets our own trained model as a graph it did not build (issue 12).

    /usr/bin/python3 scripts/foreign/export-earshot-torch.py --model public/models/base --out /tmp/earshot-torch
        [--opset 17]

Writes <out>/model.onnx and <out>/tokens.txt (copied from the model directory). Needs Debian's
python3-torch 1.13 and python3-onnx (`apt-get install python3-torch python3-onnx`, run with
/usr/bin/python3). Its output is not committed (the base model is 10 MB); tests run this script.

The graph: input `features` [batch, time, nMels] float32 (the model's own log-mel, frames × mels),
output `logits` [batch, time_out, vocab] (time_out = frames after the ×4 subsampling), no mask input
(one utterance, or a batch of equal lengths). LoRA adapters in the directory are merged into the base
weights first (W ← W + (α/r)·A·B); bottleneck adapters stay in the graph.

metadata_props, so an importer can recognise the front end without config.json:
    earshot_frontend          "logmel-<nMels>"
    earshot_frontend_config   config.json's frontEnd object as JSON (sampleRate, nFft, winLength, …)
    (no `earshot_config`: that key marks a graph our own engine wrote, and this one it did not)
    model_type "earshot-ctc", blank_id, vocab_size, subsampling_factor, input_layout, exporter
"""

import argparse
import json
import os
import shutil
import sys

import onnx
import torch

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(REPO, "python"))
from earshot_torch.model import AdapterConfig, merge_lora  # noqa: E402
from earshot_torch.model_dir import build_model, load_init  # noqa: E402


class LogitsOnly(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, features):
        return self.model(features)


def main():
    ap = argparse.ArgumentParser(description="Export an Earshot model directory with torch.onnx.export.")
    ap.add_argument("--model", required=True, help="model directory (config.json + model.onnx or weights.safetensors)")
    ap.add_argument("--out", required=True, help="folder to write model.onnx and tokens.txt to")
    ap.add_argument("--opset", type=int, default=17)
    a = ap.parse_args()

    config, weights, _ = load_init(a.model)
    adapters = config.get("adapters") or {}
    if adapters.get("lora"):
        weights = merge_lora(weights, AdapterConfig.from_json(adapters))
        config = {**config, "adapters": {k: v for k, v in adapters.items() if k != "lora"}}
    model = build_model(config)
    model.load_weights(weights)
    model.eval()

    os.makedirs(a.out, exist_ok=True)
    out_file = os.path.join(a.out, "model.onnx")
    n_mels = config["arch"]["nMels"]
    with torch.no_grad():
        torch.onnx.export(LogitsOnly(model), (torch.zeros(1, 200, n_mels),), out_file, input_names=["features"],
                          output_names=["logits"], dynamic_axes={"features": {0: "batch", 1: "time"}, "logits": {0: "batch", 1: "time_out"}},
                          opset_version=a.opset, do_constant_folding=True)

    m = onnx.load(out_file)
    meta = {
        "earshot_frontend": f"logmel-{n_mels}",
        "earshot_frontend_config": json.dumps(config["frontEnd"]),
        "model_type": "earshot-ctc",
        "blank_id": config["blankId"],
        "vocab_size": config["arch"]["vocabSize"],
        "subsampling_factor": config["subsampling"],
        "input_layout": f"features [batch, time, {n_mels}] float32: log-mel frames as the frontEnd config computes them",
        "exporter": f"torch.onnx.export (torch {torch.__version__}, opset {a.opset}) of python/earshot_torch/model.py",
    }
    del m.metadata_props[:]
    for k, v in meta.items():
        m.metadata_props.add(key=k, value=str(v))
    onnx.save(m, out_file)
    shutil.copyfile(os.path.join(a.model, "tokens.txt") if os.path.isdir(a.model) else os.path.join(os.path.dirname(a.model), "tokens.txt"),
                    os.path.join(a.out, "tokens.txt"))
    print(out_file)


if __name__ == "__main__":
    main()
