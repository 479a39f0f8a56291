"""The log-mel front end of src/audio/log-mel.ts and src/audio/mel.ts in numpy, step for step, with
the same float32 roundings where the TypeScript keeps float32 (pre-emphasised signal, window, power
spectrum, filter weights, log output), so features match to float32 precision. The config is the
model's config.json `frontEnd`, checked as strictly as validateFrontEndConfig checks it."""

import math

import numpy as np

F_SP = 200 / 3  # Hz per mel in Slaney's linear region
MIN_LOG_HZ = 1000.0
MIN_LOG_MEL = MIN_LOG_HZ / F_SP
LOG_STEP = math.log(6.4) / 27

KEYS = ["sampleRate", "winLength", "hopLength", "nFft", "nMels", "fMin", "fMax", "melScale", "melNorm", "window",
        "periodicWindow", "preemphasis", "power", "center", "padMode", "logGuard", "logFloor", "normalize"]


def hz_to_mel(f, scale):
    if scale == "htk":
        return 2595 * math.log10(1 + f / 700)
    return f / F_SP if f < MIN_LOG_HZ else MIN_LOG_MEL + math.log(f / MIN_LOG_HZ) / LOG_STEP


def mel_to_hz(m, scale):
    if scale == "htk":
        return 700 * (10 ** (m / 2595) - 1)
    return m * F_SP if m < MIN_LOG_MEL else MIN_LOG_HZ * math.exp(LOG_STEP * (m - MIN_LOG_MEL))


def mel_filter_bank(cfg):
    """[nMels, nFft/2 + 1] float32 triangles (librosa.filters.mel), Slaney unit-area when asked."""
    n_bins = cfg["nFft"] // 2 + 1
    lo, hi = hz_to_mel(cfg["fMin"], cfg["melScale"]), hz_to_mel(cfg["fMax"], cfg["melScale"])
    n = cfg["nMels"]
    edges = [mel_to_hz(lo + (hi - lo) * i / (n + 1), cfg["melScale"]) for i in range(n + 2)]
    f = np.arange(n_bins, dtype=np.float64) * cfg["sampleRate"] / cfg["nFft"]
    bank = np.zeros((n, n_bins), np.float32)
    for m in range(n):
        left, center, right = edges[m : m + 3]
        w = np.maximum(0, np.minimum((f - left) / (center - left), (right - f) / (right - center)))
        scale = 2 / (right - left) if cfg["melNorm"] == "slaney" else 1
        bank[m] = (w * scale).astype(np.float32)
    return bank


def validate_front_end(cfg):
    unknown = [k for k in cfg if k not in KEYS]
    missing = [k for k in KEYS if k not in cfg]
    if unknown or missing:
        raise ValueError(f"invalid front-end config: unknown {unknown}, missing {missing}")
    if cfg["window"] != "hann" or cfg["melScale"] not in ("slaney", "htk") or cfg["padMode"] not in ("constant", "reflect"):
        raise ValueError(f"invalid front-end config: {cfg}")
    return cfg


class LogMel:
    """Log-mel features of 16 kHz mono float32 samples → [frames, nMels] float32."""

    def __init__(self, cfg):
        self.cfg = validate_front_end(cfg)
        L = cfg["winLength"]
        denom = L if cfg["periodicWindow"] else L - 1
        self.window = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(L) / denom)).astype(np.float32).astype(np.float64)
        self.bank = mel_filter_bank(cfg).astype(np.float64)

    def frame_count(self, n):
        c = self.cfg
        if n <= 0:
            return 0
        if c["center"]:
            return 1 + n // c["hopLength"]
        return 0 if n < c["winLength"] else 1 + (n - c["winLength"]) // c["hopLength"]

    def __call__(self, samples):
        c = self.cfg
        x = np.asarray(samples, np.float32)
        a = c["preemphasis"]
        if a > 0 and len(x):
            x = np.concatenate([x[:1], x[1:] - np.float32(a) * x[:-1]]).astype(np.float32)
        n, hop, L, nfft = len(x), c["hopLength"], c["winLength"], c["nFft"]
        frames = self.frame_count(n)
        if frames == 0:
            return np.zeros((0, c["nMels"]), np.float32)
        # signal index under window tap 0 of frame t: t·hop + shift (centred frames start winLength/2 early)
        shift = ((nfft - L) >> 1) - (nfft >> 1) if c["center"] else 0
        idx = np.arange(frames)[:, None] * hop + shift + np.arange(L)[None, :]
        if c["center"] and c["padMode"] == "reflect":
            period = 2 * (n - 1) if n > 1 else 1
            r = np.mod(idx, period)
            src = np.where(r < n, r, period - r) if n > 1 else np.zeros_like(idx)
            seg = x.astype(np.float64)[src]
        else:
            inside = (idx >= 0) & (idx < n)
            seg = np.where(inside, x.astype(np.float64)[np.clip(idx, 0, n - 1)], 0.0)
        buf = np.zeros((frames, nfft))
        off = (nfft - L) // 2  # where the window sits in the FFT buffer (no effect on magnitudes)
        buf[:, off : off + L] = seg * self.window
        spec = np.fft.rfft(buf, axis=1)
        p = spec.real**2 + spec.imag**2
        p = (p if c["power"] == 2 else np.sqrt(p)).astype(np.float32).astype(np.float64)
        e = p @ self.bank.T
        floor = c["logFloor"]
        feats = np.log(e + floor if c["logGuard"] == "add" else np.maximum(e, floor)).astype(np.float32)
        return normalize(feats, c["normalize"])


def normalize(feats, how):
    if how == "none" or len(feats) == 0:
        return feats
    f = feats.astype(np.float64)
    if how == "per_utterance":
        # each channel minus its mean, over its std (n − 1 denominator) + 1e-5, as NeMo's per_feature
        mean = f.mean(0)
        std = np.sqrt(((f - mean) ** 2).sum(0) / (len(f) - 1)) if len(f) > 1 else np.zeros_like(mean)
        return ((f - mean) / (std + 1e-5)).astype(np.float32)
    return ((f - np.asarray(how["mean"])) / np.asarray(how["std"])).astype(np.float32)


def spec_augment(feats, rng, freq_masks=2, freq_width=15, time_masks=2, time_width=40, max_time_fraction=0.1, fill=0.0):
    """SpecAugment's frequency and time masks (Park et al. 2019), as specAugment in augment.ts:
    width w ~ U{0..W}, start ~ U{0..size − w}; returns a masked copy."""
    out = feats.copy()
    frames, n_mels = out.shape
    for _ in range(freq_masks):
        w = int(rng.integers(0, min(freq_width, n_mels) + 1))
        f0 = int(rng.integers(0, n_mels - w + 1))
        out[:, f0 : f0 + w] = fill
    max_t = min(time_width, int(max_time_fraction * frames))
    for _ in range(time_masks):
        w = int(rng.integers(0, max(0, max_t) + 1))
        t0 = int(rng.integers(0, frames - w + 1))
        out[t0 : t0 + w] = fill
    return out
