"""Continues an Earshot training run on PyTorch, on any number of processes (torchrun / DDP).

  torchrun --nproc_per_node=N python/earshot_torch/train.py --manifest a.jsonl,b.jsonl --init public/models/base --out run/

The recipe is scripts/train-base.ts's: AdamW (β 0.9/0.999, ε 1e-8, weight decay 0.01 except biases
and norms), gradient-norm clipping at 5, linear warmup then cosine decay to 5% of the peak
(src/train/schedule.ts), speed perturbation, noise and SpecAugment, CTC loss averaged over items of
loss / target length. Each process gets its share of every global batch (BucketSampler), DDP
averages the gradients, so N processes take the same steps as one process with the same global
batch. On CUDA the forward pass runs under bf16 autocast (fp16 with a gradient scaler on request).

--manifest takes NeMo manifests (packed with our own decoder and text normalization by
scripts/torch/pack-audio.ts into <out>/packs/, which needs Node) or packs made beforehand (*.pack).
--init takes a model directory, a weights safetensors, or an Earshot training state (ours, or
scripts/train-base.ts's state.safetensors: Adam moments and step are continued). The run's own
state, <out>/state.safetensors, has the same layout, and a rerun with the same --out resumes from it.
At the end, rank 0 writes <out>/model, a model directory whose model.onnx our own engine builds.
"""

import argparse
import hashlib
import json
import math
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.distributed as dist  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from python.earshot_torch.data import AudioPack, BucketSampler, TrainItems, collate  # noqa: E402
from python.earshot_torch.model import subsampled_length  # noqa: E402
from python.earshot_torch.model_dir import REPO, build_model, load_init, write_model_dir  # noqa: E402
from python.earshot_torch.safetensors_io import read_safetensors, write_safetensors  # noqa: E402


def lr_at(step, peak, warmup, total, final=0.05):
    """src/train/schedule.ts: linear warmup to the peak, cosine decay to final·peak."""
    if warmup > 0 and step < warmup:
        return peak * (step + 1) / warmup
    p = min(1.0, max(0.0, (step - warmup) / max(1, total - warmup)))
    return peak * (final + (1 - final) * 0.5 * (1 + math.cos(math.pi * p)))


def decays(name):
    """No weight decay on biases and norm gains, as CtcTrainer."""
    return not name.endswith(".bias") and "norm" not in name


def ctc_loss_sum(logits, lengths, targets):
    """CTC (blank 0): Σ over this rank's items of loss / target length, infeasible items counted as 0.
    Divided by the global batch size it is PyTorch's 'mean' with zero_infinity, which is
    src/asr/ctc.ts's 'mean_per_target_length'."""
    logp = F.log_softmax(logits.float() if logits.dtype != torch.float64 else logits, -1).transpose(0, 1)
    in_len = torch.tensor([subsampled_length(int(n)) for n in lengths])
    tgt_len = torch.tensor([len(t) for t in targets])
    per_item = F.ctc_loss(logp, torch.cat(targets).to(logits.device), in_len, tgt_len, blank=0, reduction="none", zero_infinity=True)
    return (per_item / tgt_len.clamp(min=1).to(per_item.device)).sum()


def one_thread(_worker):
    """Data workers compute features with numpy: one thread each, or they oversubscribe the cores."""
    torch.set_num_threads(1)


def pack_manifests(manifests, out_dir, rank):
    """NeMo manifests → packs under <out>/packs (by rank 0, once; the others wait at the barrier)."""
    packs = []
    os.makedirs(os.path.join(out_dir, "packs"), exist_ok=True)
    for m in manifests:
        if m.endswith(".pack"):
            packs.append(m)
            continue
        name = hashlib.sha1(os.path.abspath(m).encode()).hexdigest()[:10] + ".pack"
        p = os.path.join(out_dir, "packs", name)
        if rank == 0 and not os.path.exists(p):
            subprocess.run(["npx", "--no-install", "tsx", os.path.join(REPO, "scripts/torch/pack-audio.ts"), "--manifest", m, "--out", p], check=True, cwd=REPO)
        packs.append(p)
    if dist.is_initialized():
        dist.barrier()
    return packs


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--manifest", required=True, help="comma-separated NeMo manifests or *.pack files")
    ap.add_argument("--init", default=os.path.join(REPO, "public/models/base"))
    ap.add_argument("--out", required=True)
    ap.add_argument("--steps", type=int, default=8000, help="total steps of the schedule (the run stops there)")
    ap.add_argument("--max-steps", type=int, default=0, help="stop after this many steps in this invocation (0: no limit)")
    ap.add_argument("--time-budget", type=float, default=0, help="stop (and checkpoint) after this many seconds of training (0: no limit)")
    ap.add_argument("--fit-schedule", action="store_true", help="with --time-budget: after 10 steps, shorten --steps to what the budget allows at the measured speed, so the cosine ends when time does")
    ap.add_argument("--peak-lr", type=float, default=2e-3)
    ap.add_argument("--warmup", type=int, default=600)
    ap.add_argument("--restart-at", type=int, default=-1, help="warm restart: the schedule starts again at this step (default: the step the run starts from when --init is not a training state)")
    ap.add_argument("--batch-frames", type=int, default=8000, help="padded frames per global batch")
    ap.add_argument("--buckets", default="256,384,512,768,1024,1600")
    ap.add_argument("--weight-decay", type=float, default=0.01)
    ap.add_argument("--clip-norm", type=float, default=5.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--ckpt-every", type=int, default=100)
    ap.add_argument("--log-every", type=int, default=20)
    ap.add_argument("--precision", choices=["auto", "fp32", "bf16", "fp16"], default="auto", help="auto: bf16 autocast on CUDA, fp32 on CPU")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--float64", action="store_true", help="CPU only, for tests: train in float64 (state saved in float64), so that runs that differ only in summation order agree to ~1e-12")
    ap.add_argument("--workers", type=int, default=2, help="data-loading processes per rank")
    ap.add_argument("--no-augment", action="store_true")
    ap.add_argument("--lm-from", default=None, help="model directory whose lm.arpa and decoder settings <out>/model keeps (default: --init when it is a directory, else public/models/base)")
    ap.add_argument("--no-export", action="store_true", help="skip writing <out>/model (it needs Node); export later with python -m python.earshot_torch.export")
    a = ap.parse_args()

    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    device = torch.device(("cuda" if torch.cuda.is_available() else "cpu") if a.device == "auto" else a.device)
    if device.type == "cuda":
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    if world > 1:
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    precision = a.precision if a.precision != "auto" else ("bf16" if device.type == "cuda" else "fp32")
    log = (lambda **k: print(json.dumps({"t": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **k}), flush=True)) if rank == 0 else (lambda **k: None)
    torch.manual_seed(a.seed)
    os.makedirs(a.out, exist_ok=True)

    # model and state: our own checkpoint if the run exists, else --init
    state_file = os.path.join(a.out, "state.safetensors")
    resumed = os.path.exists(state_file)
    config, weights, state = load_init(state_file if resumed else a.init)
    model = build_model(config)
    if a.float64:
        model.double()
    model.load_weights(weights)
    model.to(device)
    named = dict(model.named_parameters())
    groups = [{"params": [p for n, p in named.items() if decays(n)], "weight_decay": a.weight_decay},
              {"params": [p for n, p in named.items() if not decays(n)], "weight_decay": 0.0}]
    opt = torch.optim.AdamW(groups, lr=a.peak_lr, betas=(0.9, 0.999), eps=1e-8)
    step, epoch, done_in_epoch, restart = 0, 0, 0, max(a.restart_at, 0)
    if state is not None:  # Adam moments and step: continue the optimizer, not only the weights
        t = state["tensors"]
        step = int(round(float(np.asarray(t["optim.step"]).reshape(-1)[0])))
        for n, p in named.items():
            if f"adam.m.{n}" in t:
                opt.state[p] = {"step": torch.tensor(float(step)), "exp_avg": torch.from_numpy(t[f"adam.m.{n}"]).reshape(p.shape).to(device, p.dtype),
                                "exp_avg_sq": torch.from_numpy(t[f"adam.v.{n}"]).reshape(p.shape).to(device, p.dtype)}
        meta = state["meta"]
        epoch, done_in_epoch = int(meta.get("torch_epoch", 0)), int(meta.get("torch_batches_done", 0))
        restart = int(meta.get("restart_at", restart)) if a.restart_at < 0 else a.restart_at
        if "steps" in meta and a.fit_schedule:
            a.steps = int(meta["steps"])
    elif a.restart_at < 0:
        restart = 0
    log(event="resumed" if resumed else "start", step=step, world=world, device=str(device), precision=precision,
        parameters=sum(p.numel() for p in model.parameters()), init=state_file if resumed else a.init)
    ddp = torch.nn.parallel.DistributedDataParallel(model, device_ids=[local_rank] if device.type == "cuda" else None) if world > 1 else model

    packs = pack_manifests(a.manifest.split(","), a.out, rank)
    pack = AudioPack(packs)
    sampler = BucketSampler([pack.seconds(i) for i in range(len(pack))], [int(b) for b in a.buckets.split(",")], a.batch_frames, world, rank, a.seed)
    items = TrainItems(pack, config["frontEnd"], augment=not a.no_augment)
    log(event="data", utterances=len(pack), hours=round(sum(pack.seconds(i) for i in range(len(pack))) / 3600, 3), packs=packs)

    scaler = torch.cuda.amp.GradScaler() if precision == "fp16" else None
    amp_dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision)
    lr_for = lambda s: lr_at(s - restart, a.peak_lr, a.warmup, a.steps - restart)

    def save():
        if rank != 0:
            return
        tensors = {n: p.detach() for n, p in named.items()}
        for n, p in named.items():
            st = opt.state.get(p, {})
            tensors[f"adam.m.{n}"] = st["exp_avg"] if "exp_avg" in st else torch.zeros_like(p)
            tensors[f"adam.v.{n}"] = st["exp_avg_sq"] if "exp_avg_sq" in st else torch.zeros_like(p)
        tensors["optim.step"] = np.array(float(step), np.float32)
        write_safetensors(state_file, tensors, {"format": "earshot-training-state", "version": "1", "config": json.dumps(config),
                                                "torch_epoch": epoch, "torch_batches_done": done_in_epoch, "restart_at": restart, "step": step, "steps": a.steps})

    t0 = time.time()
    started_at = step
    window = dict(loss=0.0, n=0, skipped=0, audio=0.0, start=time.time())
    stop = lambda: step >= a.steps or (a.max_steps and step - started_at >= a.max_steps) or (a.time_budget and time.time() - t0 >= a.time_budget)
    while not stop():
        sampler.set_epoch(epoch, done_in_epoch)
        loader = torch.utils.data.DataLoader(items, batch_sampler=sampler, collate_fn=collate, num_workers=a.workers,
                                             pin_memory=device.type == "cuda", worker_init_fn=one_thread, **({"prefetch_factor": 4} if a.workers else {}))
        for feats, lengths, targets, global_batch in loader:
            feats = feats.to(device, torch.float64 if a.float64 else torch.float32, non_blocking=True)
            t_out = subsampled_length(feats.shape[1])
            mask = (torch.arange(t_out)[None, :] < torch.tensor([subsampled_length(int(n)) for n in lengths])[:, None]).to(device, feats.dtype)
            lr = lr_for(step)
            for g in opt.param_groups:
                g["lr"] = lr
            with torch.autocast(device.type, dtype=amp_dtype, enabled=amp_dtype is not None):
                logits = ddp(feats, mask)
            # DDP averages gradients over ranks: each rank's share of the global mean, times the world size
            local = ctc_loss_sum(logits, lengths, targets) / global_batch
            loss_for_grad = local * world
            opt.zero_grad(set_to_none=True)
            if scaler:
                scaler.scale(loss_for_grad).backward()
                scaler.unscale_(opt)
            else:
                loss_for_grad.backward()
            loss = local.detach()
            if world > 1:
                dist.all_reduce(loss)  # the global batch's loss, for the log and the finite check
            # ‖g‖ before clipping, all-reduced already by DDP; a GPU sync point (the .item())
            norm = torch.nn.utils.clip_grad_norm_(model.parameters(), a.clip_norm).item()
            done_in_epoch += 1
            if math.isfinite(norm) and math.isfinite(loss.item()):
                if scaler:
                    scaler.step(opt)
                    scaler.update()
                else:
                    opt.step()
                step += 1  # as our engine: a skipped update does not advance the step or the schedule
                window["loss"] += loss.item()
                window["n"] += 1
            else:
                window["skipped"] += 1
                if scaler:
                    scaler.update()
            window["audio"] += float(lengths.sum()) / 100 * world
            if step % a.log_every == 0 and window["n"]:
                secs = time.time() - window["start"]
                log(step=step, epoch=epoch, loss=round(window["loss"] / max(1, window["n"]), 4), skipped=window["skipped"], lr=float(f"{lr:.3e}"),
                    grad_norm=round(norm, 3), audio_x_realtime=round(window["audio"] / secs, 1), sec_per_step=round(secs / max(1, window["n"] + window["skipped"]), 3),
                    elapsed_min=round((time.time() - t0) / 60, 2))
                window = dict(loss=0.0, n=0, skipped=0, audio=0.0, start=time.time())
            if a.fit_schedule and a.time_budget and step - started_at == 10:
                per_step = (time.time() - t0) / 10
                a.steps = min(a.steps, step + int((a.time_budget - (time.time() - t0)) / per_step))
                log(event="schedule_fitted", steps=a.steps, sec_per_step=round(per_step, 3))
            if step % a.ckpt_every == 0:
                save()
            if stop():
                break
        else:
            epoch, done_in_epoch = epoch + 1, 0
    save()
    log(event="done", step=step, epoch=epoch, train_seconds=round(time.time() - t0, 1))
    if rank == 0 and not a.no_export:
        base = a.lm_from or (a.init if os.path.isdir(a.init) else os.path.join(REPO, "public/models/base"))
        write_model_dir(os.path.join(a.out, "model"), config, model.weights(), card=f"# Earshot model trained with PyTorch\n\nContinued from `{a.init}` to step {step} with python/earshot_torch/train.py on {world} process(es) ({device.type}, {precision}).\n",
                        provenance={"torch_steps": step, "trainer": "python/earshot_torch/train.py", "world": world, "device": device.type, "precision": precision}, base_dir=base)
        log(event="exported", model=os.path.join(a.out, "model"))
    if world > 1:
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
