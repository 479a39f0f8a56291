"""The Earshot acoustic model in plain PyTorch: a twin of src/asr/model.ts with the same parameter
names and layouts, so our safetensors and model.onnx weights load without renaming.

log-mel [B, T, n_mels] → ×4 subsampling (two stride-2 convs, GELU) → pre-norm Conformer-style blocks
  x = x + MHSA(LN(x));  x = x + Conv(LN(x));  x = x + FF(LN(x));  [+ bottleneck adapter]
→ LN → linear head → per-frame logits [B, T/4, V] for CTC.
Linear weights are stored [in, out] as in our engine (y = x·W + b), not torch's [out, in].
"""

import math
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn


@dataclass
class ModelArch:
    nMels: int = 80
    dModel: int = 144
    heads: int = 4
    blocks: int = 8
    ffDim: int = 576
    convKernel: int = 15
    vocabSize: int = 29


@dataclass
class AdapterConfig:
    lora: dict | None = None  # {"rank", "alpha", "targets"}
    bottleneck: dict | None = None  # {"dim"}

    @staticmethod
    def from_json(d):
        d = d or {}
        return AdapterConfig(lora=d.get("lora"), bottleneck=d.get("bottleneck"))


def gelu(x):
    """GELU, erf form. The hook hands GELU's backward a contiguous gradient: Debian's PyTorch 1.13
    computes a wrong input gradient (errors of order 1, or 1e22) when the incoming gradient is strided
    unlike the input, which is what the subsampling's transposes produce. Measured by the parity test."""
    y = F.gelu(x)
    if y.requires_grad:
        y.register_hook(lambda g: g.contiguous())
    return y


def subsampled_length(frames):
    """Frames after the ×4 subsampling (two stride-2 convolutions, kernel 3, padding 1)."""
    half = lambda n: (n + 2 - 3) // 2 + 1
    return half(half(frames))


class Dense(nn.Module):
    """y = x·W + b (+ (α/r)·x·A·B with LoRA, B zero-initialised)."""

    def __init__(self, din, dout, lora=None, zero=False):
        super().__init__()
        bound = math.sqrt(3 / din)
        self.weight = nn.Parameter(torch.zeros(din, dout) if zero else torch.empty(din, dout).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.zeros(dout))
        self.scale = 0.0
        if lora:
            r = lora["rank"]
            self.lora_a = nn.Parameter(torch.empty(din, r).uniform_(-bound, bound))
            self.lora_b = nn.Parameter(torch.zeros(r, dout))
            self.scale = lora["alpha"] / r

    def forward(self, x):
        y = x @ self.weight + self.bias
        if self.scale:
            y = y + (x @ self.lora_a @ self.lora_b) * self.scale
        return y


class Attention(nn.Module):
    def __init__(self, d, heads, lora_for):
        super().__init__()
        self.norm = nn.LayerNorm(d)
        self.q, self.k, self.v, self.o = (Dense(d, d, lora_for(t)) for t in "qkvo")
        self.heads = heads

    def forward(self, x, key_bias):
        B, T, D = x.shape
        h = self.norm(x)
        split = lambda v: v.reshape(B, T, self.heads, D // self.heads).transpose(1, 2)  # [B, H, T, dh]
        q, k, v = split(self.q(h)), split(self.k(h)), split(self.v(h))
        scores = (q @ k.transpose(-1, -2)) * (1 / math.sqrt(D // self.heads))
        if key_bias is not None:
            scores = scores + key_bias
        ctx = (scores.softmax(-1) @ v).transpose(1, 2).reshape(B, T, D)
        return self.o(ctx)


class ConvModule(nn.Module):
    """pointwise → GLU → depthwise conv → LN → Swish → pointwise (LayerNorm where Conformer has BatchNorm)."""

    def __init__(self, d, kernel):
        super().__init__()
        self.norm_in = nn.LayerNorm(d)
        self.pointwise1 = Dense(d, 2 * d)
        self.depthwise = nn.Conv1d(d, d, kernel, groups=d, padding=(kernel - 1) // 2)
        self.norm = nn.LayerNorm(d)
        self.pointwise2 = Dense(d, d)

    def forward(self, x, frame_mask):
        a, b = self.pointwise1(self.norm_in(x)).chunk(2, dim=-1)
        c = a * torch.sigmoid(b)
        if frame_mask is not None:
            c = c * frame_mask  # padding must not leak into real frames through the conv
        c = self.norm(self.depthwise(c.transpose(1, 2)).transpose(1, 2))
        return self.pointwise2(c * torch.sigmoid(c))


class FeedForward(nn.Module):
    def __init__(self, d, ff, lora_for):
        super().__init__()
        self.norm = nn.LayerNorm(d)
        self.ff1 = Dense(d, ff, lora_for("ff1"))
        self.ff2 = Dense(ff, d, lora_for("ff2"))

    def forward(self, x):
        return self.ff2(gelu(self.ff1(self.norm(x))))


class Bottleneck(nn.Module):
    """Residual bottleneck adapter (Houlsby et al. 2019): up(ReLU(down(LN(x)))), up zero-initialised."""

    def __init__(self, d, dim):
        super().__init__()
        self.norm = nn.LayerNorm(d)
        self.down = Dense(d, dim)
        self.up = Dense(dim, d, zero=True)

    def forward(self, x):
        return self.up(torch.relu(self.down(self.norm(x))))


class Block(nn.Module):
    def __init__(self, arch, adapters):
        super().__init__()
        lora = adapters.lora
        lora_for = lambda t: lora if lora and t in lora["targets"] else None
        self.attn = Attention(arch.dModel, arch.heads, lora_for)
        self.conv = ConvModule(arch.dModel, arch.convKernel)
        self.ff = FeedForward(arch.dModel, arch.ffDim, lora_for)
        if adapters.bottleneck:
            self.adapter = Bottleneck(arch.dModel, adapters.bottleneck["dim"])

    def forward(self, x, key_bias, frame_mask):
        x = x + self.attn(x, key_bias)
        x = x + self.conv(x, frame_mask)
        x = x + self.ff(x)
        if hasattr(self, "adapter"):
            x = x + self.adapter(x)
        return x


class EarshotCtc(nn.Module):
    def __init__(self, arch: ModelArch, adapters: AdapterConfig | None = None):
        super().__init__()
        self.arch = arch
        self.adapters = adapters or AdapterConfig()
        D = arch.dModel
        self.subsample = nn.ModuleList([nn.Conv1d(arch.nMels, D, 3, stride=2, padding=1), nn.Conv1d(D, D, 3, stride=2, padding=1)])
        self.encoder = nn.ModuleList([Block(arch, self.adapters) for _ in range(arch.blocks)])
        self.final_norm = nn.LayerNorm(D)
        self.head = Dense(D, arch.vocabSize)

    def forward(self, features, mask=None):
        """features [B, T, n_mels]; mask [B, T'] (1 = real frame after subsampling) or None → logits [B, T', V]."""
        x = features.transpose(1, 2)
        for conv in self.subsample:
            x = gelu(conv(x))
        x = x.transpose(1, 2)
        key_bias = frame_mask = None
        if mask is not None:
            key_bias = ((mask - 1) * 1e4)[:, None, None, :].to(x.dtype)
            frame_mask = mask[:, :, None].to(x.dtype)
        for block in self.encoder:
            x = block(x, key_bias, frame_mask)
        return self.head(self.final_norm(x))

    def load_weights(self, weights, strict=True):
        """Loads {name: array} by our names; every parameter must be present with its exact shape."""
        own = dict(self.named_parameters())
        missing = [n for n in own if n not in weights]
        if strict and missing:
            raise KeyError(f"weights missing for {', '.join(missing[:5])}{f' and {len(missing) - 5} more' if len(missing) > 5 else ''}")
        unknown = [n for n in weights if n not in own]
        if strict and unknown:
            raise KeyError(f"weights the architecture does not have: {', '.join(unknown[:5])}")
        with torch.no_grad():
            for n, p in own.items():
                if n in weights:
                    w = torch.as_tensor(weights[n])
                    if w.numel() != p.numel():
                        raise ValueError(f"weight {n} has {w.numel()} values, the architecture needs {list(p.shape)}")
                    p.copy_(w.reshape(p.shape))

    def weights(self):
        """{name: float32 numpy array} with our names and layouts."""
        return {n: p.detach().float().cpu().numpy() for n, p in self.named_parameters()}


def merge_lora(weights, adapters):
    """LoRA folded into the base weights, W ← W + (α/r)·A·B, as mergeLora in model.ts."""
    out = {n: w.copy() for n, w in weights.items() if ".lora_" not in n}
    l = adapters.lora
    if l:
        for n, a in weights.items():
            if n.endswith(".lora_a"):
                base = n[: -len(".lora_a")]
                out[f"{base}.weight"] = out[f"{base}.weight"] + (l["alpha"] / l["rank"]) * (a @ weights[f"{base}.lora_b"])
    return out
