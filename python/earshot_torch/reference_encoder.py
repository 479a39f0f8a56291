"""The reference encoder of ../shared/docs/REFERENCE-ENCODER.md in plain PyTorch: the peer that
Earshot's training step is timed against (scripts/device/gpu-bench.py runs it on CUDA beside our
engine on WebGPU). It is written from the specification, not from src/engine/testing/reference-encoder.ts,
so that the losses it prints (1.36495, 1.33389, 0.78182, ... at the reduced size) check both.

  python3 -m python.earshot_torch.reference_encoder [--device cuda|cpu] [--size full|reduced]
      [--warmup 3] [--steps 10] [--budget-s 60] [--threads N] [--serve]

Prints one JSON line: the median milliseconds of a training step (forward + backward + AdamW + reading
the loss back, the same step bench:engine times), every step's loss, the device. Asked for CUDA where
there is none, it says so in that JSON (`skipped`) and exits 0."""

import argparse
import json
import math
import statistics
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

SIZES = {"full": (8, 300), "reduced": (2, 100)}
D_MODEL, HEADS, D_FF, D_OUT, BLOCKS = 256, 4, 1024, 32, 6
EXPECTED_FIRST_LOSS = {"full": 1.33108, "reduced": 1.36495}


def mulberry32(seed, n):
    """n consecutive draws of the spec's "mulberry32". Its state only ever adds 0x6D2B79F5, so draw k's
    state is seed + (k+1)·0x6D2B79F5 mod 2^32 and all n draws are computed at once (uint64 holds
    every 32×32-bit product exactly; `& M` is the spec's wrap to 32 bits)."""
    M = np.uint64(0xFFFFFFFF)
    s = (np.uint64(seed) + np.arange(1, n + 1, dtype=np.uint64) * np.uint64(0x6D2B79F5)) & M

    def imul(a, b):
        return (a * b) & M

    t = imul(s ^ (s >> np.uint64(15)), s | np.uint64(1))
    t = ((t + imul(t ^ (t >> np.uint64(7)), t | np.uint64(61))) & M) ^ t
    return (t ^ (t >> np.uint64(14))).astype(np.float64) / 2.0**32


def draw_parameters():
    """Every parameter in the spec's order (seed 1234): per block q, k, v, o, ff1, ff2 (W then b, each
    (2u − 1)/√in), layer norms g = 1, b = 0 without draws, then the head."""
    dense = []
    for i in range(BLOCKS):
        dense += [(f"encoder.{i}.attn.{n}", D_MODEL, D_MODEL) for n in "qkvo"]
        dense += [(f"encoder.{i}.ff1", D_MODEL, D_FF), (f"encoder.{i}.ff2", D_FF, D_MODEL)]
    dense.append(("head", D_MODEL, D_OUT))
    u = mulberry32(1234, sum(i * o + o for _, i, o in dense))
    params, at = {}, 0
    for name, fan_in, fan_out in dense:
        for part, shape in (("weight", (fan_in, fan_out)), ("bias", (fan_out,))):
            n = int(np.prod(shape))
            params[f"{name}.{part}"] = ((2 * u[at:at + n] - 1) / math.sqrt(fan_in)).astype(np.float32).reshape(shape)
            at += n
    for i in range(BLOCKS):
        for ln in ("ln1", "ln2"):
            params[f"encoder.{i}.{ln}.weight"] = np.ones(D_MODEL, np.float32)
            params[f"encoder.{i}.{ln}.bias"] = np.zeros(D_MODEL, np.float32)
    params["final_ln.weight"] = np.ones(D_MODEL, np.float32)
    params["final_ln.bias"] = np.zeros(D_MODEL, np.float32)
    return params


def draw_batch(batch, time_):
    """X [B, T, 256] then the target [B, T, 32] from seed 42, each value √(−2 ln(1 − u₁))·cos(2π u₂)."""
    nx, nt = batch * time_ * D_MODEL, batch * time_ * D_OUT
    u = mulberry32(42, 2 * (nx + nt))
    z = (np.sqrt(-2 * np.log(1 - u[0::2])) * np.cos(2 * math.pi * u[1::2])).astype(np.float32)
    return z[:nx].reshape(batch, time_, D_MODEL), z[nx:].reshape(batch, time_, D_OUT)


def forward(p, x):
    """6 pre-LN blocks (x + attn(ln1(x)), x + ff2(gelu(ff1(ln2(x))))), final LN, dense head."""
    B, T, _ = x.shape
    dh = D_MODEL // HEADS

    def dense(name, h):
        return h @ p[f"{name}.weight"] + p[f"{name}.bias"]

    def ln(name, h):
        return F.layer_norm(h, (D_MODEL,), p[f"{name}.weight"], p[f"{name}.bias"], 1e-5)

    def heads(h):
        return h.reshape(B, T, HEADS, dh).transpose(1, 2)  # [B, H, T, dh]

    for i in range(BLOCKS):
        e = f"encoder.{i}"
        h = ln(f"{e}.ln1", x)
        q, k, v = (heads(dense(f"{e}.attn.{n}", h)) for n in "qkv")
        attn = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(dh), dim=-1) @ v
        x = x + dense(f"{e}.attn.o", attn.transpose(1, 2).reshape(B, T, D_MODEL))
        x = x + dense(f"{e}.ff2", F.gelu(dense(f"{e}.ff1", ln(f"{e}.ln2", x))))  # erf GELU, PyTorch's default
    return dense("head", ln("final_ln", x))


def describe(device):
    if device.type == "cuda":
        return {"name": torch.cuda.get_device_name(device), "cuda": torch.version.cuda,
                "tf32_matmul": torch.backends.cuda.matmul.allow_tf32, "tf32_cudnn": torch.backends.cudnn.allow_tf32}
    return {"name": "cpu", "threads": torch.get_num_threads()}


def stepper(device_name, size):
    """The parameters, the batch and the optimizer of one size; returns (step, parameter count), where
    step() takes one training step and returns its loss."""
    batch, time_ = SIZES[size]
    device = torch.device(device_name)
    params = {n: torch.tensor(v, device=device, requires_grad=True) for n, v in draw_parameters().items()}
    x, target = (torch.tensor(a, device=device) for a in draw_batch(batch, time_))
    # the spec's optimizer: decoupled decay on every parameter, bias-corrected moments
    opt = torch.optim.AdamW(params.values(), lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = F.mse_loss(forward(params, x), target)
        loss.backward()
        opt.step()
        return loss.item()  # the GPU sync point: the step ends when its loss is on the host

    return step, sum(v.numel() for v in params.values())


def serve(device_name, size):
    """Steps on request, for a caller that takes turns with other engines (bench:engine): one JSON
    line when ready, then one per line read from stdin (`{"ms": …, "loss": …}`), until stdin closes."""
    step, n = stepper(device_name, size)
    print(json.dumps({"ready": True, "parameters": n, "device": describe(torch.device(device_name))}), flush=True)
    for _ in sys.stdin:
        s = time.perf_counter()
        loss = step()
        print(json.dumps({"ms": (time.perf_counter() - s) * 1000, "loss": loss}), flush=True)


def run(device_name, size, warmup, steps, budget_s):
    batch, time_ = SIZES[size]
    step, n_params = stepper(device_name, size)
    losses, warmup_ms, step_ms = [], [], []
    t0 = time.perf_counter()
    for i in range(warmup + steps):
        s = time.perf_counter()
        losses.append(step())
        (warmup_ms if i < warmup else step_ms).append((time.perf_counter() - s) * 1000)
        if step_ms and time.perf_counter() - t0 > budget_s:
            break
    return {
        "size": size, "batch": batch, "time": time_,
        "parameters": n_params,
        "median_ms_per_step": statistics.median(step_ms) if step_ms else None,
        "warmup_ms": [round(v, 3) for v in warmup_ms], "step_ms": [round(v, 3) for v in step_ms],
        "losses": [round(v, 6) for v in losses],
        "first_step_loss": losses[0] if losses else None, "expected_first_step_loss": EXPECTED_FIRST_LOSS[size],
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--size", default="full", help="comma-separated: full, reduced")
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--budget-s", type=float, default=60, help="per size: stop timing once past it (at least one timed step)")
    ap.add_argument("--threads", type=int, default=0, help="CPU threads for torch (0: its default)")
    ap.add_argument("--serve", action="store_true", help="take steps on request (one line on stdin each) for one --size")
    a = ap.parse_args(argv)
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    if a.serve:
        serve(a.device, a.size)
        return 0
    out = {"engine": f"PyTorch {torch.__version__}", "device_requested": a.device, "optimizer": "torch.optim.AdamW (default implementation)", "dtype": "float32"}
    if a.device.startswith("cuda") and not torch.cuda.is_available():
        out["skipped"] = f"CUDA is not available to this PyTorch (torch {torch.__version__}, built for CUDA {torch.version.cuda})"
        print(json.dumps(out))
        return 0
    out["device"] = describe(torch.device(a.device))
    out["sizes"] = {s: run(a.device, s, a.warmup, a.steps, a.budget_s) for s in a.size.split(",")}
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
