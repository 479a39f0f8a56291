"""A training state as three files no bigger than the parameters (weights, adam.m, adam.v), for
carriers that cap file sizes (the GPU machine returns files of at most 16 MiB), and back.

  python3 -m python.earshot_torch.state_files split run/state.safetensors OUTDIR
  python3 -m python.earshot_torch.state_files join OUTDIR run/state.safetensors

weights.safetensors alone is a weights file train.py --init and export --state accept."""

import os
import sys

from .safetensors_io import read_safetensors, write_safetensors

PARTS = {"weights.safetensors": lambda n: not n.startswith(("adam.", "optim.")), "adam_m.safetensors": lambda n: n.startswith("adam.m."),
         "adam_v.safetensors": lambda n: n.startswith("adam.v.") or n.startswith("optim.")}


def split(state, out_dir):
    t, meta = read_safetensors(state)
    os.makedirs(out_dir, exist_ok=True)
    for name, keep in PARTS.items():
        part_meta = dict(meta) if name != "weights.safetensors" else {k: v for k, v in meta.items() if k != "format"}
        write_safetensors(os.path.join(out_dir, name), {n: v for n, v in t.items() if keep(n)}, part_meta)


def join(in_dir, state):
    tensors, meta = {}, {}
    for name in PARTS:
        t, m = read_safetensors(os.path.join(in_dir, name))
        tensors.update(t)
        meta.update(m)
    meta["format"] = "earshot-training-state"
    write_safetensors(state, tensors, meta)


if __name__ == "__main__":
    {"split": split, "join": join}[sys.argv[1]](sys.argv[2], sys.argv[3])
