"""Training data for train.py: audio packs (scripts/torch/pack-audio.ts: audio decoded and
transcripts normalized by our own TypeScript, so PyTorch needs no codecs), the recipe's augmentation,
and a length-bucketed distributed batch sampler."""

import math

import numpy as np
import torch
import torch.nn.functional as F

from .features import LogMel, spec_augment
from .safetensors_io import read_safetensors

RATE = 16000


class AudioPack:
    """One or more packs: utterance i is (16 kHz float32 samples, label ids)."""

    def __init__(self, paths):
        self.audio, self.spans, self.labels = [], [], []
        for p in paths:
            t, meta = read_safetensors(p)
            if meta.get("format") != "earshot-audio-pack":
                raise ValueError(f"{p} is not an audio pack (make one with scripts/torch/pack-audio.ts)")
            k = len(self.audio)
            self.audio.append((t["audio"], meta["codec"]))
            off, lo, lab = t["offsets"], t["label_offsets"], t["labels"]
            for i in range(len(off) - 1):
                self.spans.append((k, int(off[i]), int(off[i + 1])))
                self.labels.append(lab[lo[i] : lo[i + 1]].astype(np.int64))

    def __len__(self):
        return len(self.spans)

    def seconds(self, i):
        _, a, b = self.spans[i]
        return (b - a) / RATE

    def samples(self, i):
        k, a, b = self.spans[i]
        data, codec = self.audio[k]
        x = data[a:b]
        if codec == "mulaw":  # G.711 µ-law back to [−1, 1]
            y = x.astype(np.float32) / 127.5 - 1
            return (np.sign(y) * np.expm1(np.abs(y) * math.log1p(255)) / 255).astype(np.float32)
        return (x.astype(np.float32) / 32767).astype(np.float32)


def speed_perturb(x, factor):
    """Speed perturbation (Ko et al. 2015) by resampling, as speedPerturb in augment.ts: the audio
    treated as recorded at 16 kHz·factor, converted back to 16 kHz (about len/factor samples)."""
    src = int(round(RATE * factor))
    try:  # windowed-sinc resampling, as our resample.ts
        import torchaudio.functional as AF

        return AF.resample(torch.from_numpy(x), src, RATE).numpy()
    except ImportError:  # PyTorch builds without torchaudio: polyphase filtering, else linear interpolation
        g = math.gcd(src, RATE)
        try:
            from scipy.signal import resample_poly

            return resample_poly(x, RATE // g, src // g).astype(np.float32)
        except ImportError:
            n = int(round(len(x) * RATE / src))
            return np.interp(np.arange(n) * (src / RATE), np.arange(len(x)), x).astype(np.float32)


def add_noise(x, snr_db, rng):
    """White Gaussian noise scaled to an exact SNR over the whole signal, as addNoise in augment.ts."""
    p = float(np.dot(x.astype(np.float64), x))
    if len(x) == 0 or p == 0:
        return x
    n = rng.standard_normal(len(x))
    gain = math.sqrt(p / (float(np.dot(n, n)) * 10 ** (snr_db / 10)))
    return (x + gain * n).astype(np.float32)


class TrainItems(torch.utils.data.Dataset):
    """Item (index, seed tuple) → (features, labels). Each item's randomness comes from its own seed
    (run seed, epoch, batch, position in the global batch), not from a per-process stream, so the
    same global batch is the same whatever the number of processes sharing it."""

    def __init__(self, pack, front_end, augment):
        self.pack, self.augment = pack, augment
        self.logmel = LogMel(front_end)

    def __len__(self):
        return len(self.pack)

    def __getitem__(self, key):
        i, seed, bucket, global_batch = key
        x = self.pack.samples(i)
        rng = np.random.default_rng(seed)
        if self.augment:  # the recipe of scripts/train-base.ts
            if rng.random() < 0.3:
                x = speed_perturb(x, 0.9 if rng.random() < 0.5 else 1.1)
            if rng.random() < 0.5:
                x = add_noise(x, 10 + 25 * rng.random(), rng)
        f = self.logmel(x)
        if self.augment:
            f = spec_augment(f, rng, freq_masks=2, freq_width=15, time_masks=2, time_width=40, max_time_fraction=0.1)
        return f, self.pack.labels[i], bucket, global_batch


def collate(items):
    """Pads features to the bucket's frame count: ([B, frames, nMels], lengths, label list, global batch size)."""
    frames, n_mels = items[0][2], items[0][0].shape[1]
    feats = np.zeros((len(items), frames, n_mels), np.float32)
    lengths = []
    for b, (f, *_) in enumerate(items):
        n = min(len(f), frames)
        feats[b, :n] = f[:n]
        lengths.append(n)
    return torch.from_numpy(feats), torch.tensor(lengths), [torch.from_numpy(it[1]) for it in items], items[0][3]


class BucketSampler(torch.utils.data.Sampler):
    """Length-bucketed distributed batches. Every process builds the same epoch plan from (seed,
    epoch) — utterances shuffled, grouped by length bucket (+30 frames of slack for speed
    perturbation, as the recipe), cut into global batches of ⌊batch_frames / bucket⌋ (at least the
    world size), batches shuffled — and takes its own contiguous share of each global batch (shares
    differ by at most one item; train.py weighs each rank's loss by its share, so the gradient is
    the global batch's whatever the split). A bucket's last, incomplete batch is dropped, as in the
    recipe. The plan depends on (seed, epoch) alone, never on the number of processes."""

    def __init__(self, seconds, buckets, batch_frames, world, rank, seed):
        self.seconds, self.buckets = seconds, sorted(buckets)
        self.batch_frames, self.world, self.rank, self.seed = batch_frames, world, rank, seed
        self.epoch, self.start = 0, 0

    def bucket_of(self, s):
        need = math.ceil(s * 100) + 30
        return next((b for b in self.buckets if need <= b), None)

    def global_size(self, bucket):
        return max(self.world, self.batch_frames // bucket)

    def plan(self, epoch):
        rng = np.random.default_rng([self.seed, epoch])
        by = {}
        batches = []
        for i in rng.permutation(len(self.seconds)):
            b = self.bucket_of(self.seconds[i])
            if b is None:
                continue
            by.setdefault(b, []).append(int(i))
            if len(by[b]) == self.global_size(b):
                batches.append((b, by[b]))
                by[b] = []
        return [batches[k] for k in rng.permutation(len(batches))]

    def set_epoch(self, epoch, start=0):
        """The epoch to plan, and how many of its batches were already done (resuming)."""
        self.epoch, self.start = epoch, start

    def __iter__(self):
        for n, (bucket, ids) in enumerate(self.plan(self.epoch)):
            if n < self.start:
                continue
            mine = np.array_split(np.arange(len(ids)), self.world)[self.rank]
            yield [(ids[j], (self.seed, self.epoch, n, int(j)), bucket, len(ids)) for j in mine]

    def __len__(self):
        return len(self.plan(self.epoch)) - self.start
