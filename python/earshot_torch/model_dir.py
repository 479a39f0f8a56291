"""Reading and writing what the app reads: a model directory (config.json + model.onnx weights) or
our safetensors checkpoints. model.onnx itself is always written by our TypeScript engine
(scripts/torch/write-model-dir.ts), so there is one inference graph, not a second exporter."""

import json
import os
import subprocess

from .model import AdapterConfig, EarshotCtc, ModelArch
from .onnx_weights import read_onnx_weights
from .safetensors_io import read_safetensors, write_safetensors

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def load_init(path):
    """(config dict, {name: array}, training state or None) from a model directory, an Earshot
    training state (scripts/train-base.ts's or ours: parameters, adam.m.*, adam.v.*, optim.step) or a
    weights-only safetensors; the last two take their config from a config.json beside them, or the
    shipped base model's."""
    if os.path.isdir(path):
        with open(os.path.join(path, "config.json")) as f:
            config = json.load(f)
        st = os.path.join(path, "weights.safetensors")
        weights = read_safetensors(st)[0] if os.path.exists(st) else read_onnx_weights(os.path.join(path, "model.onnx"))
        return config, weights, None
    tensors, meta = read_safetensors(path)
    cfg_file = os.path.join(os.path.dirname(path), "config.json")
    if "config" in meta:
        config = json.loads(meta["config"])
    else:
        with open(cfg_file if os.path.exists(cfg_file) else os.path.join(REPO, "public/models/base/config.json")) as f:
            config = json.load(f)
    if meta.get("format") == "earshot-training-state":
        weights = {n: t for n, t in tensors.items() if not n.startswith(("adam.", "optim."))}
        return config, weights, {"tensors": tensors, "meta": meta}
    return config, tensors, None


def build_model(config):
    arch = ModelArch(**config["arch"])
    return EarshotCtc(arch, AdapterConfig.from_json(config.get("adapters")))


def write_model_dir(out_dir, config, weights, card, provenance=None, base_dir=None):
    """Has our engine build model.onnx, config.json, tokens.txt and README.md from the weights
    (keeping the base model's lm.arpa and decoder settings when base_dir has them)."""
    os.makedirs(out_dir, exist_ok=True)
    st = os.path.join(out_dir, ".weights.tmp.safetensors")
    card_file = os.path.join(out_dir, ".card.tmp.md")
    write_safetensors(st, {n: w.reshape(-1) for n, w in weights.items()}, {"config": json.dumps(config)})
    with open(card_file, "w") as f:
        f.write(card)
    cmd = ["npx", "--no-install", "tsx", os.path.join(REPO, "scripts/torch/write-model-dir.ts"), "--weights", st, "--out", out_dir,
           "--card", card_file, "--provenance", json.dumps(provenance or {})]
    if base_dir:
        cmd += ["--base", base_dir]
    try:
        subprocess.run(cmd, check=True, cwd=REPO)
    finally:
        for f in (st, card_file):
            if os.path.exists(f):
                os.remove(f)
