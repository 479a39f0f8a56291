"""Checks the PyTorch twin against our engine on the fixture scripts/torch/parity-fixture.ts wrote:
front end (features from the same 16 kHz samples), logits of the shipped model on real speech
(max abs difference ≤ 1e-4), and CTC loss and every parameter's gradient on one padded batch
(relative difference ≤ 1e-4), for the base model and a tiny model with LoRA and bottleneck
adapters. Prints one JSON object of what it measured; exits 1, naming what failed, when a bound
is broken.

  /usr/bin/python3 -m python.earshot_torch.parity --fixture /tmp/parity.safetensors --model public/models/base
"""

import argparse
import json
import math
import sys

import numpy as np
import torch
import torch.nn.functional as F

from .features import LogMel
from .model import subsampled_length
from .model_dir import build_model, load_init
from .safetensors_io import read_safetensors


def ctc_loss(logits, lengths, targets):
    """Our recipe's loss: CTC, blank 0, mean over the batch of loss / target length, zero_infinity —
    computed in float64 as src/asr/ctc.ts computes it."""
    in_len = torch.tensor([subsampled_length(int(n)) for n in lengths])
    logp = F.log_softmax(logits.double(), -1).transpose(0, 1)  # [T, B, V]
    tgt = torch.cat([torch.as_tensor(t, dtype=torch.long) for t in targets])
    tgt_len = torch.tensor([len(t) for t in targets])
    return F.ctc_loss(logp, tgt, in_len, tgt_len, blank=0, reduction="mean", zero_infinity=True)


def batch_mask(frames, lengths):
    t_out = subsampled_length(frames)
    return (torch.arange(t_out)[None, :] < torch.tensor([subsampled_length(int(n)) for n in lengths])[:, None]).float()


def check(fixture, model_dir, tol_logits=1e-4, tol_grad=1e-4, tol_features=1e-3):
    torch.manual_seed(0)
    t, meta = read_safetensors(fixture)
    report, failures = {}, []
    config, weights, _ = load_init(model_dir)
    base = build_model(config)
    base.load_weights(weights)
    base.eval()

    # 1. front end and logits on real speech, clip by clip
    fe = LogMel(config["frontEnd"])
    feat_diff = logit_diff = e2e_diff = 0.0
    for i in range(int(meta["clips"])):
        ours = t[f"clip{i}.features"]
        py = fe(t[f"clip{i}.samples"])
        if py.shape != ours.shape:
            failures.append(f"clip {i}: python front end gives {py.shape} frames×mels, ours {ours.shape}")
            continue
        feat_diff = max(feat_diff, float(np.abs(py - ours).max()))
        with torch.no_grad():
            logits = base(torch.from_numpy(ours)[None]).numpy()
            logits_py_fe = base(torch.from_numpy(py)[None]).numpy()
        ref = t[f"clip{i}.logits"]
        logit_diff = max(logit_diff, float(np.abs(logits - ref).max()))
        e2e_diff = max(e2e_diff, float(np.abs(logits_py_fe - ref).max()))
    report.update(clips=int(meta["clips"]), features_max_abs_diff=feat_diff, logits_max_abs_diff=logit_diff, logits_from_python_features_max_abs_diff=e2e_diff)
    if feat_diff > tol_features:
        failures.append(f"front end: features differ by up to {feat_diff:.3g} (bound {tol_features})")
    if logit_diff > tol_logits:
        failures.append(f"logits: the twin differs from model.onnx by up to {logit_diff:.3g} (bound {tol_logits})")
    if e2e_diff > 10 * tol_logits:
        failures.append(f"logits from the python front end differ from model.onnx's on ours by up to {e2e_diff:.3g} (bound {10 * tol_logits})")

    # 2. CTC loss and gradients on one padded batch: the base model and the tiny adapter model
    targets = [t[f"target{i}"] for i in range(int(meta["batch"]))]
    for key in ("base", "tiny"):
        if key == "base":
            model = base
        else:
            model = build_model(json.loads(meta["tiny.config"]))
            model.load_weights({n[len("tiny.weight.") :]: w for n, w in t.items() if n.startswith("tiny.weight.")})
        feats = torch.from_numpy(t[f"{key}.features"])
        lengths = t[f"{key}.lengths"]
        model.zero_grad()
        logits = model(feats, batch_mask(feats.shape[1], lengths))
        loss = ctc_loss(logits, lengths, targets)
        loss.backward()
        ref_loss = float(meta[f"{key}.loss"])
        loss_rel = abs(loss.item() - ref_loss) / abs(ref_loss)
        # padded logit frames are not compared: they are masked out of the loss and differ by design nowhere else
        valid = batch_mask(feats.shape[1], lengths).bool()
        lg_diff = float((logits.detach() - torch.from_numpy(t[f"{key}.logits"])).abs()[valid].max())
        worst, worst_name, missing, zero = 0.0, "", [], []
        pairs = {}
        for name, p in model.named_parameters():
            ref = t.get(f"{key}.grad.{name}")
            if ref is None:
                missing.append(name)
            else:
                pairs[name] = (p.grad.reshape(-1).double().numpy(), ref.astype(np.float64))
        total = math.sqrt(sum(float((r**2).sum()) for _, r in pairs.values()))
        for name, (g, ref) in pairs.items():
            if name.endswith(".attn.k.bias"):
                # Exactly zero in exact arithmetic (softmax is unchanged when every score of a row
                # shifts by q·b_k): both sides hold rounding noise, checked against the whole gradient.
                if max(np.linalg.norm(g), np.linalg.norm(ref)) > 1e-6 * total:
                    failures.append(f"{key}: gradient of {name} should be ~0, is {np.linalg.norm(g):.3g} (ours {np.linalg.norm(ref):.3g})")
                zero.append(name)
                continue
            rel = float(np.linalg.norm(g - ref) / max(np.linalg.norm(ref), 1e-30))
            if rel > worst:
                worst, worst_name = rel, name
        all_rel = math.sqrt(sum(float(((g - r) ** 2).sum()) for g, r in pairs.values())) / total
        n_params = sum(1 for _ in model.parameters())
        report[key] = dict(loss=loss.item(), engine_loss=ref_loss, loss_rel_diff=loss_rel, logits_max_abs_diff=lg_diff,
                           grad_max_rel_diff=worst, grad_worst_param=worst_name, grad_all_rel_diff=all_rel,
                           params_compared=n_params - len(missing), zero_grad_params=len(zero))
        if missing:
            failures.append(f"{key}: our engine has no gradient for {missing[:3]}: parameter names differ")
        if loss_rel > tol_grad:
            failures.append(f"{key}: CTC loss {loss.item():.6g} vs ours {ref_loss:.6g} (relative {loss_rel:.3g}, bound {tol_grad})")
        if worst > tol_grad:
            failures.append(f"{key}: gradient of {worst_name} differs by {worst:.3g} relative (‖Δg‖/‖g‖, bound {tol_grad})")
        if lg_diff > tol_logits:
            failures.append(f"{key}: masked-batch logits differ by up to {lg_diff:.3g} (bound {tol_logits})")
    return report, failures


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--fixture", required=True)
    ap.add_argument("--model", default="public/models/base")
    a = ap.parse_args()
    report, failures = check(a.fixture, a.model)
    report["ok"] = not failures
    report["failures"] = failures
    print(json.dumps(report))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
