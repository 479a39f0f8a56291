#!/usr/bin/python3
"""Writes the "bring your own model" fixtures (issue 12) to src/foreign/fixtures/: small models in the
layouts the real exporters produce, trained briefly so their outputs are not degenerate, plus
independent front-end references and torch reference outputs.

    /usr/bin/python3 scripts/foreign/make-fixtures.py            (about 3 minutes on 2 busy cores)

Needs Debian's python3-torch 1.13, python3-torchaudio, python3-numpy and python3-onnx
(`apt-get install python3-torch python3-torchaudio python3-onnx`; run with /usr/bin/python3, not a
pyenv python), Node with this repository's node_modules (the training clips are decoded by the app's
own decoder, scripts/foreign/decode-clips.ts, so references are computed on exactly the samples the
TypeScript tests decode), and the shared speech corpus at ../shared/speech (../shared/speech/README.md).
onnxruntime's Python package is NOT needed and not used: the quantised model is written with `onnx`
(scripts/foreign/ort_dynamic_quant.py). Deterministic: fixed seeds, one thread, deterministic
algorithms; a rerun on the same torch build writes the same tensors.

What it writes (see src/foreign/fixtures/README.md):
- wav2vec2-tiny/: the Optimum / Transformers.js layout. config.json, vocab.json (facebook/wav2vec2-base-960h
  character vocabulary), preprocessor_config.json, tokenizer_config.json, special_tokens_map.json,
  onnx/model.onnx (torchaudio.models.wav2vec2_model with tiny dimensions but the real structure:
  7 group-norm conv layers with kernels 10,3,3,3,3,2,2 and strides 5,2,2,2,2,2,2 = hop 320 samples;
  weight-normed grouped positional conv; 2 post-norm transformer layers; aux linear to 32 characters),
  exported with torch.onnx.export at opset 14, do_constant_folding=True, eval mode, input
  `input_values` [batch_size, sequence_length], output `logits` [batch_size, sequence_length, 32]
  (Optimum's axis names: it reuses "sequence_length" for the output's frame axis);
  onnx/model_quantized.onnx: its MatMul weights dynamically quantised to uint8 as quantize_dynamic does.
- nemo-conformer-tiny/: the sherpa-onnx NeMo CTC layout. model.onnx (tiny Conformer-CTC in NeMo's structure,
  scripts/foreign/tiny_conformer.py; inputs `audio_signal` [N, 80, T] float32 and `length` [N] int64,
  output `logprobs` [N, T', 64]; opset 17; metadata_props as sherpa-onnx's NeMo export scripts write them)
  and tokens.txt ("<piece> <id>", SentencePiece-style pieces with "▁", <blk> last).
- whisper-tiny-encdec/: config.json (model_type "whisper") + onnx/encoder_model.onnx and
  onnx/decoder_model_merged.onnx (an If over use_cache_branch, as Optimum merges decoders): a real-shaped
  encoder–decoder for the importer's refusal.
- audio/synthetic-vowels.wav: a generated 1.5 s "a e i o" vowel sequence (glottal pulses through formant
  resonators), the one committed clip. Real speech is NOT committed: ../shared/speech/README.md forbids
  copying its files into the repository, so the real clips are named by path and read from there.
- frontend-reference.json + .bin: wav2vec2's normalised input and NeMo's log-mel for the committed clip
  and for one lossless real clip (misc_samples FLAC), computed here in numpy, independently of src/.
- reference-outputs.json: for every model and clip, torch's output shape, sums, first values, frame argmax
  and greedy transcript; the quantised model's through a torch emulation of its integer arithmetic; and
  every .onnx file's inputs, outputs, opsets, op types and metadata ("graphs").

Last, every exported graph is run with onnxruntime-node (scripts/foreign/check-fixtures-ort.ts) on the
same inputs and must agree with torch within 1e-4 (5e-2 for the quantised model); the script fails if not.

Training (so greedy decoding yields real text): each CTC model is trained from scratch for a few
hundred Adam steps on three short librispeech_train28 utterances (a base-training set) plus the
synthetic clip labelled "a e i o", one utterance per forward pass (no padding).
"""

import hashlib
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import wave

import numpy as np
import onnx
import torch
import torch.nn.functional as F
import torchaudio
from onnx import TensorProto, helper, numpy_helper
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # no __pycache__ beside the helper modules in scripts/foreign
sys.path.insert(0, HERE)
from ort_dynamic_quant import DynamicQuantLinear, quantize_dynamic_matmul  # noqa: E402
from tiny_conformer import EncDecCTCModelBPE  # noqa: E402

REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
OUT = os.path.join(REPO, "src", "foreign", "fixtures")
SPEECH = os.path.abspath(os.path.join(REPO, "..", "shared", "speech"))
SEED = 20261203
SR = 16000

# Three short base-training utterances (three speakers), read from the shared corpus; never committed.
TRAIN_CLIPS = [
    ("ls_1580-141084-0043", "librispeech_train28/audio/ls_1580-141084-0043.opus", "he put his shoes on the table"),
    ("ls_4446-2275-0009", "librispeech_train28/audio/ls_4446-2275-0009.opus", "i got in about ten minutes ago"),
    ("ls_2830-3980-0043", "librispeech_train28/audio/ls_2830-3980-0043.opus", "experience proves this"),
]
SYNTH_ID, SYNTH_TEXT = "synthetic-vowels", "a e i o"
# A lossless (FLAC, 16 kHz, 16-bit) real clip from a tests/evaluation set, for the front-end reference only.
FRONTEND_REAL = ("arctic_cmu_arctic_us_axb_a0005", "misc_samples/audio/arctic_cmu_arctic_us_axb_a0005.flac", "will we ever forget it")


def seed_everything(seed):
    torch.manual_seed(seed)
    np.random.seed(seed % 2**32)


# ---------------------------------------------------------------------------------------------- audio

def write_wav16(path, samples):
    pcm = np.clip(np.round(samples * 32768.0), -32768, 32767).astype("<i2")
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SR)
        w.writeframes(pcm.tobytes())


def read_wav16(path):
    with wave.open(path, "rb") as w:
        assert w.getframerate() == SR and w.getnchannels() == 1 and w.getsampwidth() == 2, path
        return np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(np.float32) / 32768.0


def synthetic_vowels():
    """1.5 s: silence, then /a/ /e/ /i/ /o/ (0.25 s each, 0.06 s gaps), glottal pulses at a rising 110→140 Hz
    through three formant resonators (Peterson & Barney 1952 male averages), with a little seeded noise."""
    rng = np.random.default_rng(SEED)
    formants = {"a": (730, 1090, 2440), "e": (530, 1840, 2480), "i": (270, 2290, 3010), "o": (570, 840, 2410)}
    bandwidths = (90, 110, 170)
    n = int(1.5 * SR)
    out = rng.normal(0, 0.002, n)
    start = int(0.2 * SR)
    for k, v in enumerate("aeio"):
        seg = int(0.25 * SR)
        t = np.arange(seg) / SR
        f0 = 110 + 30 * (k * seg + np.arange(seg)) / (4 * seg)
        phase = np.cumsum(f0 / SR)
        source = (np.diff(np.floor(phase), prepend=0.0) > 0).astype(np.float64)  # one pulse per period
        y = np.zeros(seg)
        for fc, bw in zip(formants[v], bandwidths):
            r = math.exp(-math.pi * bw / SR)
            a1, a2 = 2 * r * math.cos(2 * math.pi * fc / SR), -r * r
            z = np.zeros(seg)
            for i in range(seg):
                z[i] = source[i] * (1 - r) + a1 * (z[i - 1] if i >= 1 else 0.0) + a2 * (z[i - 2] if i >= 2 else 0.0)
            y += z
        y *= np.sin(np.pi * t / t[-1]) ** 2  # smooth onset and offset
        out[start : start + seg] += 0.5 * y / np.abs(y).max()
        start += seg + int(0.06 * SR)
    return (out / np.abs(out).max() * 0.5).astype(np.float32)


def decode_shared(relpaths, tmp):
    """{relpath: float32 samples} decoded by the app's decodeMono (scripts/foreign/decode-clips.ts)."""
    files = [os.path.join(SPEECH, p) for p in relpaths]
    missing = [f for f in files if not os.path.exists(f)]
    if missing:
        sys.exit(f"make-fixtures: {missing[0]} is missing; this script reads real speech from ../shared/speech (see its README.md)")
    subprocess.run(["npx", "--no-install", "tsx", os.path.join(HERE, "decode-clips.ts"), tmp, *files], check=True, cwd=REPO,
                   stdout=subprocess.DEVNULL)
    return {p: np.fromfile(os.path.join(tmp, os.path.splitext(os.path.basename(p))[0] + ".f32"), "<f4") for p in relpaths}


def read_flac16(path):
    """16-bit FLAC → float32 samples / 32768, exactly (FLAC is lossless)."""
    x, sr = torchaudio.load(path)
    x = x[0].numpy().astype(np.float32)
    assert sr == SR and np.array_equal(x * 32768.0, np.round(x * 32768.0)), f"{path}: expected 16 kHz 16-bit audio"
    return x


def sha256(a):
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()


# ---------------------------------------------------------------------------------------------- front ends
# Both computed in float64 numpy from the float32 samples, rounded to float32 at the end; written
# from the definitions, not from src/ (the TypeScript front ends are tested against these numbers).

W2V_EPS = 1e-7


def wav2vec2_normalize(x):
    """Wav2Vec2FeatureExtractor with do_normalize: (x − mean) / sqrt(var + 1e-7), population variance."""
    x = x.astype(np.float64)
    return ((x - x.mean()) / np.sqrt(x.var() + W2V_EPS)).astype(np.float32)


NEMO_FE = {
    "sample_rate": 16000, "dither": 0.0, "preemph": 0.97, "n_fft": 512, "win_length": 400, "hop_length": 160,
    "window": "hann", "window_periodic": False, "center": True, "pad_mode": "constant", "mag_power": 2.0,
    "nfilt": 80, "lowfreq": 0, "highfreq": 8000, "mel_scale": "slaney", "mel_norm": "slaney",
    "log": True, "log_zero_guard_type": "add", "log_zero_guard_value": 2.0**-24,
    "normalize": "per_feature", "std_unbiased": True, "std_add": 1e-5, "pad_to": 0,
}


def slaney_mel_filterbank(n_freqs, sr, n_mels, fmin, fmax):
    """[n_mels, n_freqs] triangles on the Slaney mel scale with Slaney area normalisation (librosa.filters.mel)."""
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    min_log_mel, logstep = min_log_hz / f_sp, math.log(6.4) / 27.0
    hz2mel = lambda f: np.where(f < min_log_hz, f / f_sp, min_log_mel + np.log(np.maximum(f, 1e-10) / min_log_hz) / logstep)
    mel2hz = lambda m: np.where(m < min_log_mel, m * f_sp, min_log_hz * np.exp(logstep * (m - min_log_mel)))
    freqs = np.linspace(0, sr / 2, n_freqs)
    pts = mel2hz(np.linspace(hz2mel(np.float64(fmin)), hz2mel(np.float64(fmax)), n_mels + 2))
    fb = np.zeros((n_mels, n_freqs))
    for m in range(n_mels):
        lo, c, hi = pts[m], pts[m + 1], pts[m + 2]
        fb[m] = np.maximum(0, np.minimum((freqs - lo) / (c - lo), (hi - freqs) / (hi - c))) * (2.0 / (hi - lo))
    return fb


def nemo_logmel(x, return_parts=False):
    """NeMo AudioToMelSpectrogramPreprocessor (FilterbankFeatures) in eval mode → [80, T] float32."""
    c = NEMO_FE
    x = x.astype(np.float64)
    x = np.concatenate([x[:1], x[1:] - c["preemph"] * x[:-1]])
    n, nfft, hop, wl = len(x), c["n_fft"], c["hop_length"], c["win_length"]
    padded = np.pad(x, (nfft // 2, nfft // 2))  # center=True, constant (zero) padding
    frames = 1 + n // hop
    win = np.zeros(nfft)
    win[(nfft - wl) // 2 : (nfft - wl) // 2 + wl] = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(wl) / (wl - 1))  # symmetric Hann
    idx = np.arange(frames)[:, None] * hop + np.arange(nfft)[None, :]
    spec = np.fft.rfft(padded[idx] * win, axis=1)
    power = spec.real**2 + spec.imag**2  # |X|², mag_power 2
    fb = slaney_mel_filterbank(nfft // 2 + 1, c["sample_rate"], c["nfilt"], c["lowfreq"], c["highfreq"])
    mel = power @ fb.T  # [T, 80]
    logmel = np.log(mel + c["log_zero_guard_value"]).T  # [80, T]
    mean = logmel.mean(axis=1, keepdims=True)
    std = np.sqrt(((logmel - mean) ** 2).sum(axis=1, keepdims=True) / (frames - 1)) + c["std_add"]
    feats = ((logmel - mean) / std).astype(np.float32)
    return (feats, {"fb": fb, "logmel": logmel, "mean": mean[:, 0], "std": std[:, 0]}) if return_parts else feats


def nemo_logmel_torch(x):
    """The same log-mel through torch.stft + torchaudio's filterbank: a cross-check of nemo_logmel."""
    c = NEMO_FE
    t = torch.from_numpy(x.astype(np.float64))
    t = torch.cat([t[:1], t[1:] - c["preemph"] * t[:-1]])
    spec = torch.stft(t, c["n_fft"], hop_length=c["hop_length"], win_length=c["win_length"],
                      window=torch.hann_window(c["win_length"], periodic=False, dtype=torch.float64), center=True,
                      pad_mode="constant", return_complex=True)
    power = spec.abs() ** 2
    fb = torchaudio.functional.melscale_fbanks(c["n_fft"] // 2 + 1, 0.0, 8000.0, 80, 16000, norm="slaney", mel_scale="slaney")
    logmel = torch.log(fb.to(torch.float64).T @ power + c["log_zero_guard_value"])
    mean = logmel.mean(1, keepdim=True)
    return ((logmel - mean) / (logmel.std(1, unbiased=True, keepdim=True) + c["std_add"])).float().numpy()


# ---------------------------------------------------------------------------------------------- CTC helpers

def ctc_greedy(ids, blank):
    out, prev = [], None
    for i in ids:
        if i != prev and i != blank:
            out.append(int(i))
        prev = i
    return out


def gelu_with_contiguous_grad(x, approximate="none"):
    """F.gelu whose incoming gradient is made contiguous first: Debian's torch 1.13 computes a wrong GELU
    input gradient (inf here) when that gradient is strided unlike the input, as after torchaudio's
    feature-extractor transpose (see python/earshot_torch/model.py)."""
    y = _torch_gelu(x, approximate=approximate)
    if y.requires_grad:
        y.register_hook(lambda g: g.contiguous())
    return y


_torch_gelu = F.gelu


def train_ctc(model, examples, blank, steps, lr, log_name):
    """Adam on the sum of per-utterance CTC losses (mean over target length), one utterance per pass.
    examples: list of (forward() → log-probs [T, V], target ids)."""
    F.gelu = gelu_with_contiguous_grad  # torchaudio calls torch.nn.functional.gelu; restored below
    try:
        _train_ctc(model, examples, blank, steps, lr, log_name)
    finally:
        F.gelu = _torch_gelu


def _train_ctc(model, examples, blank, steps, lr, log_name):
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.15)
    model.train()
    for step in range(steps):
        if step == int(0.7 * steps):
            # BatchNorm from here on uses its running statistics, as at inference: with one utterance per
            # batch, batch statistics differ from the running ones and eval-mode output would degrade.
            for m in model.modules():
                if isinstance(m, nn.modules.batchnorm._BatchNorm):
                    m.eval()
        opt.zero_grad()
        total = 0.0
        for forward, target in examples:
            lp = forward()
            loss = F.ctc_loss(lp[:, None, :], torch.tensor([target]), torch.tensor([lp.shape[0]]), torch.tensor([len(target)]),
                              blank=blank, reduction="mean", zero_infinity=True)
            loss.backward()
            total += loss.item()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        sched.step()
        if step % 50 == 0 or step == steps - 1:
            print(f"  {log_name} step {step:4d}  ctc {total / len(examples):.4f}", flush=True)
    model.eval()


def summarize(out, decode):
    """Output summary for reference-outputs.json: batch 1 assumed."""
    a = out[0].astype(np.float64)
    ids = a.argmax(-1).tolist()
    return {"shape": list(out.shape), "sum": float(a.sum()), "sum_abs": float(np.abs(a).sum()),
            "first_frame_first8": [float(v) for v in a[0, :8]], "last_frame_first8": [float(v) for v in a[-1, :8]],
            "argmax": ids, "greedy": decode(ids)}


def export_check_case(check, name, model_file, inputs, outputs, atol=1e-4):
    """Records one ORT-vs-torch comparison for scripts/foreign/check-fixtures-ort.ts."""
    case = {"model": model_file, "atol": atol, "inputs": {}, "outputs": {}}
    for kind, tensors in (("inputs", inputs), ("outputs", outputs)):
        for k, v in tensors.items():
            f = os.path.join(check["dir"], f"{name}.{kind}.{k}.bin")
            v.tofile(f)
            case[kind][k] = {"file": f, "dtype": str(v.dtype), "shape": list(v.shape)}
    check["cases"][name] = case


# ---------------------------------------------------------------------------------------------- wav2vec2

W2V_VOCAB = {"<pad>": 0, "<s>": 1, "</s>": 2, "<unk>": 3, "|": 4, "E": 5, "T": 6, "A": 7, "O": 8, "N": 9, "I": 10, "H": 11,
             "S": 12, "R": 13, "D": 14, "L": 15, "U": 16, "M": 17, "W": 18, "C": 19, "F": 20, "G": 21, "Y": 22, "P": 23,
             "B": 24, "V": 25, "K": 26, "'": 27, "X": 28, "J": 29, "Q": 30, "Z": 31}
W2V_ARCH = {"conv_dim": [24] * 7, "conv_kernel": [10, 3, 3, 3, 3, 2, 2], "conv_stride": [5, 2, 2, 2, 2, 2, 2],
            "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 64,
            "num_conv_pos_embeddings": 16, "num_conv_pos_embedding_groups": 4}


def w2v_encode(text):
    return [W2V_VOCAB[ch] for ch in text.upper().replace(" ", "|")]


def w2v_decode(ids):
    inv = {v: k for k, v in W2V_VOCAB.items()}
    return "".join(inv[i] for i in ctc_greedy(ids, W2V_VOCAB["<pad>"])).replace("|", " ").strip()


def build_wav2vec2():
    a = W2V_ARCH
    return torchaudio.models.wav2vec2_model(
        extractor_mode="group_norm", extractor_conv_layer_config=list(zip(a["conv_dim"], a["conv_kernel"], a["conv_stride"])),
        extractor_conv_bias=False, encoder_embed_dim=a["hidden_size"], encoder_projection_dropout=0.0,
        encoder_pos_conv_kernel=a["num_conv_pos_embeddings"], encoder_pos_conv_groups=a["num_conv_pos_embedding_groups"],
        encoder_num_layers=a["num_hidden_layers"], encoder_num_heads=a["num_attention_heads"], encoder_attention_dropout=0.0,
        encoder_ff_interm_features=a["intermediate_size"], encoder_ff_interm_dropout=0.0, encoder_dropout=0.0,
        encoder_layer_norm_first=False, encoder_layer_drop=0.0, aux_num_out=len(W2V_VOCAB))


class Wav2Vec2ForCTCExport(nn.Module):
    """input_values [batch, samples] → logits [batch, frames, vocab], the Optimum CTC signature."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_values):
        return self.model(input_values)[0]


def wav2vec2_hf_files():
    a = W2V_ARCH
    config = {
        "_name_or_path": "earshot/wav2vec2-tiny-fixture", "architectures": ["Wav2Vec2ForCTC"], "model_type": "wav2vec2",
        "activation_dropout": 0.0, "apply_spec_augment": False, "attention_dropout": 0.0, "bos_token_id": 1, "eos_token_id": 2,
        "pad_token_id": 0, "conv_bias": False, "conv_dim": a["conv_dim"], "conv_kernel": a["conv_kernel"],
        "conv_stride": a["conv_stride"], "ctc_loss_reduction": "mean", "ctc_zero_infinity": True, "do_stable_layer_norm": False,
        "feat_extract_activation": "gelu", "feat_extract_dropout": 0.0, "feat_extract_norm": "group", "feat_proj_dropout": 0.0,
        "final_dropout": 0.0, "hidden_act": "gelu", "hidden_dropout": 0.0, "hidden_size": a["hidden_size"],
        "initializer_range": 0.02, "intermediate_size": a["intermediate_size"], "layer_norm_eps": 1e-05, "layerdrop": 0.0,
        "num_attention_heads": a["num_attention_heads"], "num_conv_pos_embedding_groups": a["num_conv_pos_embedding_groups"],
        "num_conv_pos_embeddings": a["num_conv_pos_embeddings"], "num_feat_extract_layers": len(a["conv_dim"]),
        "num_hidden_layers": a["num_hidden_layers"], "vocab_size": len(W2V_VOCAB), "torch_dtype": "float32",
        "transformers_version": "4.36.2",
    }
    preprocessor = {"do_normalize": True, "feature_extractor_type": "Wav2Vec2FeatureExtractor", "feature_size": 1,
                    "padding_side": "right", "padding_value": 0.0, "processor_class": "Wav2Vec2Processor",
                    "return_attention_mask": False, "sampling_rate": 16000}
    special = {"bos_token": "<s>", "eos_token": "</s>", "pad_token": "<pad>", "unk_token": "<unk>"}
    tokenizer = {**special, "clean_up_tokenization_spaces": True, "do_lower_case": False, "model_max_length": 1000000000000000019884624838656,
                 "processor_class": "Wav2Vec2Processor", "replace_word_delimiter_char": " ", "target_lang": None,
                 "tokenizer_class": "Wav2Vec2CTCTokenizer", "word_delimiter_token": "|"}
    return {"config.json": config, "preprocessor_config.json": preprocessor, "special_tokens_map.json": special,
            "tokenizer_config.json": tokenizer, "vocab.json": W2V_VOCAB}


def make_wav2vec2(clips, refs, check, steps):
    print("wav2vec2-tiny: training", flush=True)
    seed_everything(SEED)
    model = build_wav2vec2()
    examples = []
    for c in clips:
        x = torch.from_numpy(wav2vec2_normalize(c["samples"]))[None]
        examples.append((lambda x=x: model(x)[0][0].log_softmax(-1), w2v_encode(c["text"])))
    train_ctc(model, examples, W2V_VOCAB["<pad>"], steps, 3e-3, "wav2vec2")

    d = os.path.join(OUT, "wav2vec2-tiny")
    os.makedirs(os.path.join(d, "onnx"), exist_ok=True)
    for name, obj in wav2vec2_hf_files().items():
        write_json(os.path.join(d, name), obj)
    wrapper = Wav2Vec2ForCTCExport(model).eval()
    model_file = os.path.join(d, "onnx", "model.onnx")
    with torch.no_grad():
        torch.onnx.export(wrapper, (torch.zeros(1, SR),), model_file, input_names=["input_values"], output_names=["logits"],
                          dynamic_axes={"input_values": {0: "batch_size", 1: "sequence_length"},
                                        "logits": {0: "batch_size", 1: "sequence_length"}},
                          opset_version=14, do_constant_folding=True)
    float_model = onnx.load(model_file)
    onnx.save(quantize_dynamic_matmul(float_model), os.path.join(d, "onnx", "model_quantized.onnx"))

    # The quantised graph's arithmetic in torch: every nn.Linear is one quantised MatMul.
    qmodel = build_wav2vec2()
    qmodel.load_state_dict(model.state_dict())
    linears = [(n, m) for n, m in qmodel.named_modules() if isinstance(m, nn.Linear)]
    for n, m in linears:
        parent = qmodel.get_submodule(n.rsplit(".", 1)[0]) if "." in n else qmodel
        setattr(parent, n.rsplit(".", 1)[-1], DynamicQuantLinear(m))
    n_qmatmul = sum(1 for nd in onnx.load(os.path.join(d, "onnx", "model_quantized.onnx")).graph.node if nd.op_type == "MatMulInteger")
    assert n_qmatmul == len(linears), f"{n_qmatmul} MatMulInteger nodes but {len(linears)} nn.Linear layers"
    qwrapper = Wav2Vec2ForCTCExport(qmodel.eval())

    for c in clips:
        x = wav2vec2_normalize(c["samples"])[None]
        with torch.no_grad():
            out = wrapper(torch.from_numpy(x)).numpy()
            qout = qwrapper(torch.from_numpy(x)).numpy()
        refs["wav2vec2-tiny/onnx/model.onnx"]["clips"][c["id"]] = summarize(out, w2v_decode)
        refs["wav2vec2-tiny/onnx/model_quantized.onnx"]["clips"][c["id"]] = summarize(qout, w2v_decode)
        export_check_case(check, f"w2v-{c['id']}", model_file, {"input_values": x}, {"logits": out})
        export_check_case(check, f"w2vq-{c['id']}", os.path.join(d, "onnx", "model_quantized.onnx"), {"input_values": x}, {"logits": qout},
                          atol=5e-2)  # one activation rounding to the other side of a quantisation step moves logits ~1e-2
        print(f"  {c['id']}: {w2v_decode(out[0].argmax(-1).tolist())!r} (quantised: {w2v_decode(qout[0].argmax(-1).tolist())!r})")


# ---------------------------------------------------------------------------------------------- NeMo Conformer

# SentencePiece-style inventory: <unk> first (as SentencePiece puts it), a few whole-word and suffix
# pieces, the bare word boundary, every letter with and without "▁", the apostrophe; <blk> is added last.
NEMO_PIECES = (["<unk>", "▁the", "▁he", "▁in", "▁on", "ing", "er", "es", "th", "▁"]
               + ["▁" + ch for ch in "abcdefghijklmnopqrstuvwxyz"] + list("abcdefghijklmnopqrstuvwxyz") + ["'"])
NEMO_BLANK = len(NEMO_PIECES)
NEMO_ARCH = {"feat_in": 80, "n_layers": 2, "d_model": 32, "ff_expansion_factor": 2, "n_heads": 4, "conv_kernel_size": 15,
             "subsampling_conv_channels": 8, "pos_emb_max_len": 256}


def nemo_encode(text):
    """Greedy longest-match tokenisation; a word's first piece carries "▁"."""
    ids = []
    for word in text.split():
        rest, first = word, True
        while rest:
            for k in range(len(rest), 0, -1):
                piece = ("▁" if first else "") + rest[:k]
                if piece in NEMO_PIECES:
                    ids.append(NEMO_PIECES.index(piece))
                    rest, first = rest[k:], False
                    break
            else:
                raise ValueError(f"no piece for {rest!r}")
    return ids


def nemo_decode(ids):
    return "".join(NEMO_PIECES[i] for i in ctc_greedy(ids, NEMO_BLANK)).replace("▁", " ").strip()


def train_nemo(model, clips, steps, lr, label):
    """CTC-trains a NeMo-style model (features, length) -> log-probs on the clips' log-mels and pieces."""
    examples = []
    for c in clips:
        f = torch.from_numpy(nemo_logmel(c["samples"]))[None]
        n = torch.tensor([f.shape[-1]])
        examples.append((lambda f=f, n=n: model(f, n)[0], nemo_encode(c["text"])))
    train_ctc(model, examples, NEMO_BLANK, steps, lr, label)


def export_nemo(model, d, meta):
    """Writes d/tokens.txt and d/model.onnx in NeMo's export layout with `meta` as metadata; returns the .onnx path."""
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "tokens.txt"), "w", encoding="utf-8") as f:
        for i, p in enumerate(NEMO_PIECES + ["<blk>"]):
            f.write(f"{p} {i}\n")
    model_file = os.path.join(d, "model.onnx")
    dummy = (torch.zeros(1, 80, 200), torch.tensor([200], dtype=torch.int64))
    with torch.no_grad():
        # NeMo's Exportable passes dynamic axes as index lists (from its neural types), so torch names them
        # audio_signal_dynamic_axes_1, …; NeMo exports with do_constant_folding=True.
        torch.onnx.export(model, dummy, model_file, input_names=["audio_signal", "length"], output_names=["logprobs"],
                          dynamic_axes={"audio_signal": [0, 2], "length": [0], "logprobs": [0, 1]},
                          opset_version=17, do_constant_folding=True)
    m = onnx.load(model_file)
    del m.metadata_props[:]
    for k, v in meta.items():
        m.metadata_props.add(key=k, value=str(v))
    onnx.save(m, model_file)
    return model_file


def nemo_padded_batch(model, clip):
    """Two copies of the clip's features zero-padded to 1.5x its frames, lengths [T, 1.5T]: (batch, lengths,
    the model's output on the batch, its output on the clip alone)."""
    feats = nemo_logmel(clip["samples"])
    T = feats.shape[-1]
    batch = np.zeros((2, 80, T + T // 2), np.float32)
    batch[:, :, :T] = feats
    lengths = np.array([T, T + T // 2], np.int64)
    with torch.no_grad():
        out = model(torch.from_numpy(batch), torch.from_numpy(lengths)).numpy()
        alone = model(torch.from_numpy(feats[None]), torch.from_numpy(lengths[:1])).numpy()
    return batch, lengths, out, alone


def make_nemo(clips, refs, check, steps):
    print("nemo-conformer-tiny: training", flush=True)
    seed_everything(SEED + 1)
    model = EncDecCTCModelBPE(len(NEMO_PIECES), **NEMO_ARCH)
    train_nemo(model, clips, steps, 3e-3, "conformer")

    meta = {"vocab_size": NEMO_BLANK + 1, "normalize_type": "per_feature", "subsampling_factor": 4,
            "model_type": "EncDecCTCModelBPE", "version": "1", "model_author": "NeMo",
            "url": "none: generated by scripts/foreign/make-fixtures.py in the Earshot repository",
            "comment": "Tiny Conformer-CTC fixture in NeMo's export layout, trained on 4 clips; not a NeMo model"}
    model_file = export_nemo(model, os.path.join(OUT, "nemo-conformer-tiny"), meta)

    for c in clips:
        feats = nemo_logmel(c["samples"])[None]
        length = np.array([feats.shape[-1]], np.int64)
        with torch.no_grad():
            out = model(torch.from_numpy(feats), torch.from_numpy(length)).numpy()
        refs["nemo-conformer-tiny/model.onnx"]["clips"][c["id"]] = summarize(out, nemo_decode)
        export_check_case(check, f"nemo-{c['id']}", model_file, {"audio_signal": feats, "length": length}, {"logprobs": out})
        print(f"  {c['id']}: {nemo_decode(out[0].argmax(-1).tolist())!r}")

    # Masks: a batch of two copies of the synthetic clip zero-padded to 1.5× its frames, row 0 with its true
    # length (its valid output frames must equal the unpadded run's), row 1 with the padded length.
    batch, lengths, out, alone = nemo_padded_batch(model, clips[-1])
    valid = alone.shape[1]
    refs["nemo-conformer-tiny/model.onnx"]["padded_batch"] = {
        "clip": clips[-1]["id"], "audio_signal_shape": list(batch.shape), "length": lengths.tolist(),
        "audio_signal": "both rows = the clip's features then zeros", "logprobs_shape": list(out.shape),
        "row0_valid_frames": valid, "row0_vs_unpadded_max_abs_diff": float(np.abs(out[0, :valid] - alone[0]).max()),
        "row0_sum_valid": float(out[0, :valid].astype(np.float64).sum()), "row1_sum": float(out[1].astype(np.float64).sum())}
    export_check_case(check, "nemo-batch-padded", model_file, {"audio_signal": batch, "length": lengths}, {"logprobs": out})
    return meta


# ---------------------------------------------------------------------------------------------- Whisper (refusal only)

WHISPER = {"d_model": 8, "heads": 2, "vocab": 64, "mels": 80, "source_positions": 1500, "target_positions": 32}


class WhisperAttention(nn.Module):
    def __init__(self, d, h):
        super().__init__()
        self.h, self.dh = h, d // h
        self.q_proj, self.k_proj, self.v_proj, self.out_proj = nn.Linear(d, d), nn.Linear(d, d, bias=False), nn.Linear(d, d), nn.Linear(d, d)

    def heads(self, x):
        return x.view(x.size(0), -1, self.h, self.dh).transpose(1, 2)

    def forward(self, x, k, v, causal=False):
        q = self.heads(self.q_proj(x)) * self.dh**-0.5
        s = q @ k.transpose(-1, -2)
        if causal:
            tq, tk = s.size(-2), s.size(-1)
            s = s.masked_fill(torch.ones(tq, tk, dtype=torch.bool).triu(tk - tq + 1), float("-inf"))
        o = (s.softmax(-1) @ v).transpose(1, 2).reshape(x.size(0), -1, self.h * self.dh)
        return self.out_proj(o)


class WhisperEncoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        d = c["d_model"]
        self.conv1 = nn.Conv1d(c["mels"], d, 3, padding=1)
        self.conv2 = nn.Conv1d(d, d, 3, stride=2, padding=1)
        self.embed_positions = nn.Embedding(c["source_positions"], d)
        self.self_attn_layer_norm, self.self_attn = nn.LayerNorm(d), WhisperAttention(d, c["heads"])
        self.final_layer_norm, self.fc1, self.fc2 = nn.LayerNorm(d), nn.Linear(d, 4 * d), nn.Linear(4 * d, d)
        self.layer_norm = nn.LayerNorm(d)

    def forward(self, input_features):
        x = F.gelu(self.conv2(F.gelu(self.conv1(input_features)))).transpose(1, 2) + self.embed_positions.weight
        h = self.self_attn_layer_norm(x)
        x = x + self.self_attn(h, self.self_attn.heads(self.self_attn.k_proj(h)), self.self_attn.heads(self.self_attn.v_proj(h)))
        x = x + self.fc2(F.gelu(self.fc1(self.final_layer_norm(x))))
        return self.layer_norm(x)


class WhisperDecoder(nn.Module):
    """One decoder layer; forward(input_ids, encoder_hidden_states, past or None) → logits and present k/v."""

    def __init__(self, c):
        super().__init__()
        d = c["d_model"]
        self.embed_tokens, self.embed_positions = nn.Embedding(c["vocab"], d), nn.Embedding(c["target_positions"], d)
        self.self_attn_layer_norm, self.self_attn = nn.LayerNorm(d), WhisperAttention(d, c["heads"])
        self.encoder_attn_layer_norm, self.encoder_attn = nn.LayerNorm(d), WhisperAttention(d, c["heads"])
        self.final_layer_norm, self.fc1, self.fc2 = nn.LayerNorm(d), nn.Linear(d, 4 * d), nn.Linear(4 * d, d)
        self.layer_norm = nn.LayerNorm(d)

    def forward(self, input_ids, encoder_hidden_states=None, past=None):
        start = 0 if past is None else past[0].size(2)
        x = self.embed_tokens(input_ids) + self.embed_positions.weight[start : start + input_ids.size(1)]
        h = self.self_attn_layer_norm(x)
        k, v = self.self_attn.heads(self.self_attn.k_proj(h)), self.self_attn.heads(self.self_attn.v_proj(h))
        if past is not None:
            k, v = torch.cat([past[0], k], 2), torch.cat([past[1], v], 2)
        x = x + self.self_attn(h, k, v, causal=True)
        if past is None:
            ek = self.encoder_attn.heads(self.encoder_attn.k_proj(encoder_hidden_states))
            ev = self.encoder_attn.heads(self.encoder_attn.v_proj(encoder_hidden_states))
        else:
            ek, ev = past[2], past[3]
        x = x + self.encoder_attn(self.encoder_attn_layer_norm(x), ek, ev)
        x = self.layer_norm(x + self.fc2(F.gelu(self.fc1(self.final_layer_norm(x)))))
        return x @ self.embed_tokens.weight.t(), k, v, ek, ev


PAST_NAMES = ["past_key_values.0.decoder.key", "past_key_values.0.decoder.value",
              "past_key_values.0.encoder.key", "past_key_values.0.encoder.value"]
PRESENT_NAMES = [n.replace("past_key_values", "present") for n in PAST_NAMES]


def merge_decoders(no_past, with_past):
    """One graph choosing between the two exports with If(use_cache_branch), as Optimum's
    merge_decoders does: the branches read the outer graph's inputs by name."""
    def branch(model, prefix, outer_inputs):
        g = onnx.GraphProto()
        g.CopyFrom(model.graph)
        rename = {}
        for n in g.node:
            for i, name in enumerate(n.output):
                rename[name] = n.output[i] = prefix + name
            n.name = prefix + n.name
        for t in g.initializer:
            rename[t.name] = t.name = prefix + t.name
        for n in g.node:
            for i, name in enumerate(n.input):
                if name in rename:
                    n.input[i] = rename[name]
            for a in n.attribute:
                assert a.type != onnx.AttributeProto.GRAPH, "nested subgraphs not handled"
        outs = [helper.make_tensor_value_info(rename.get(o.name, o.name), TensorProto.FLOAT, None) for o in g.output]
        for o in g.output:
            if o.name not in rename:  # an output that is an input passed through
                g.node.append(helper.make_node("Identity", [o.name], [prefix + o.name + "_identity"], prefix + o.name + "_Identity"))
                outs[[x.name for x in outs].index(o.name)] = helper.make_tensor_value_info(prefix + o.name + "_identity", TensorProto.FLOAT, None)
        for i in g.input:
            assert i.name in outer_inputs, i.name
        del g.input[:], g.output[:], g.value_info[:]
        g.output.extend(outs)
        g.name = prefix.strip("/")
        return g

    names = ["input_ids", "encoder_hidden_states", *PAST_NAMES]
    then_g = branch(with_past, "with_past/", names)
    else_g = branch(no_past, "no_past/", names)
    d, h = WHISPER["d_model"], WHISPER["heads"]
    inputs = [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch_size", "decoder_sequence_length"]),
              helper.make_tensor_value_info("encoder_hidden_states", TensorProto.FLOAT, ["batch_size", "encoder_sequence_length / 2", d])]
    for n in PAST_NAMES:
        seq = "past_decoder_sequence_length" if ".decoder." in n else "encoder_sequence_length_out"
        inputs.append(helper.make_tensor_value_info(n, TensorProto.FLOAT, ["batch_size", h, seq, d // h]))
    inputs.append(helper.make_tensor_value_info("use_cache_branch", TensorProto.BOOL, [1]))
    outputs = [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch_size", "decoder_sequence_length", WHISPER["vocab"]])]
    for n in PRESENT_NAMES:
        seq = "past_decoder_sequence_length + 1" if ".decoder." in n else "encoder_sequence_length_out"
        outputs.append(helper.make_tensor_value_info(n, TensorProto.FLOAT, ["batch_size", h, seq, d // h]))
    node = helper.make_node("If", ["use_cache_branch"], [o.name for o in outputs], "optimum::if", then_branch=then_g, else_branch=else_g)
    graph = helper.make_graph([node], "merged_decoder", inputs, outputs)
    merged = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)], producer_name=no_past.producer_name,
                               producer_version=no_past.producer_version)
    merged.ir_version = no_past.ir_version
    onnx.checker.check_model(merged)
    return merged


def make_whisper(check):
    print("whisper-tiny-encdec: exporting", flush=True)
    seed_everything(SEED + 2)
    c = WHISPER
    enc, dec = WhisperEncoder(c).eval(), WhisperDecoder(c).eval()
    d = os.path.join(OUT, "whisper-tiny-encdec")
    os.makedirs(os.path.join(d, "onnx"), exist_ok=True)
    feats = torch.from_numpy(np.random.default_rng(SEED).normal(0, 1, (1, c["mels"], 2 * c["source_positions"])).astype(np.float32))
    with torch.no_grad():
        torch.onnx.export(enc, (feats,), os.path.join(d, "onnx", "encoder_model.onnx"), input_names=["input_features"],
                          output_names=["last_hidden_state"], opset_version=14, do_constant_folding=True,
                          dynamic_axes={"input_features": {0: "batch_size", 1: "feature_size", 2: "encoder_sequence_length"},
                                        "last_hidden_state": {0: "batch_size", 1: "encoder_sequence_length / 2"}})
        hidden = enc(feats)
        ids = torch.tensor([[1, 5, 7]])
        tmp = tempfile.mkdtemp()

        class NoPast(nn.Module):
            def __init__(self):
                super().__init__()
                self.dec = dec

            def forward(self, input_ids, encoder_hidden_states):
                return self.dec(input_ids, encoder_hidden_states)

        class WithPast(NoPast):
            def forward(self, input_ids, dk, dv, ek, ev):
                return self.dec(input_ids, None, (dk, dv, ek, ev))

        present_axes = lambda seq: {0: "batch_size", 2: seq}
        torch.onnx.export(NoPast(), (ids, hidden), os.path.join(tmp, "no_past.onnx"), input_names=["input_ids", "encoder_hidden_states"],
                          output_names=["logits", *PRESENT_NAMES], opset_version=14, do_constant_folding=True,
                          dynamic_axes={"input_ids": {0: "batch_size", 1: "decoder_sequence_length"},
                                        "encoder_hidden_states": {0: "batch_size", 1: "encoder_sequence_length / 2"},
                                        "logits": {0: "batch_size", 1: "decoder_sequence_length"}})
        logits0, *present = dec(ids, hidden)
        step = torch.tensor([[9]])
        torch.onnx.export(WithPast(), (step, *present), os.path.join(tmp, "with_past.onnx"), input_names=["input_ids", *PAST_NAMES],
                          output_names=["logits", *PRESENT_NAMES], opset_version=14, do_constant_folding=True,
                          dynamic_axes={"input_ids": {0: "batch_size", 1: "decoder_sequence_length"},
                                        **{n: present_axes("past_sequence_length") for n in PAST_NAMES}})
        logits1, *present1 = dec(step, None, tuple(present))
        merged = merge_decoders(onnx.load(os.path.join(tmp, "no_past.onnx")), onnx.load(os.path.join(tmp, "with_past.onnx")))
        shutil.rmtree(tmp)
    onnx.save(merged, os.path.join(d, "onnx", "decoder_model_merged.onnx"))
    hs = hidden.numpy()
    zeros = np.zeros((1, c["heads"], 0, c["d_model"] // c["heads"]), np.float32)
    export_check_case(check, "whisper-encoder", os.path.join(d, "onnx", "encoder_model.onnx"), {"input_features": feats.numpy()},
                      {"last_hidden_state": hs})
    export_check_case(check, "whisper-decoder-first", os.path.join(d, "onnx", "decoder_model_merged.onnx"),
                      {"input_ids": ids.numpy(), "encoder_hidden_states": hs, PAST_NAMES[0]: zeros, PAST_NAMES[1]: zeros,
                       PAST_NAMES[2]: zeros, PAST_NAMES[3]: zeros, "use_cache_branch": np.array([False])},
                      {"logits": logits0.numpy()})
    export_check_case(check, "whisper-decoder-cached", os.path.join(d, "onnx", "decoder_model_merged.onnx"),
                      {"input_ids": step.numpy(), "encoder_hidden_states": hs, **{n: p.numpy() for n, p in zip(PAST_NAMES, present)},
                       "use_cache_branch": np.array([True])},
                      {"logits": logits1.numpy()})
    write_json(os.path.join(d, "config.json"), {
        "_name_or_path": "earshot/whisper-tiny-encdec-fixture", "architectures": ["WhisperForConditionalGeneration"],
        "model_type": "whisper", "is_encoder_decoder": True, "d_model": c["d_model"], "encoder_layers": 1, "decoder_layers": 1,
        "encoder_attention_heads": c["heads"], "decoder_attention_heads": c["heads"], "encoder_ffn_dim": 4 * c["d_model"],
        "decoder_ffn_dim": 4 * c["d_model"], "num_mel_bins": c["mels"], "max_source_positions": c["source_positions"],
        "max_target_positions": c["target_positions"], "vocab_size": c["vocab"], "bos_token_id": 1, "eos_token_id": 2,
        "pad_token_id": 2, "decoder_start_token_id": 1, "activation_function": "gelu", "scale_embedding": False,
        "use_cache": True, "torch_dtype": "float32", "transformers_version": "4.36.2"})
    write_json(os.path.join(d, "preprocessor_config.json"), {
        "chunk_length": 30, "feature_extractor_type": "WhisperFeatureExtractor", "feature_size": c["mels"], "hop_length": 160,
        "n_fft": 400, "n_samples": 480000, "nb_max_frames": 3000, "padding_side": "right", "padding_value": 0.0,
        "processor_class": "WhisperProcessor", "return_attention_mask": False, "sampling_rate": 16000})


# ---------------------------------------------------------------------------------------------- main

def write_json(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2, ensure_ascii=False)
        f.write("\n")


def round_floats(obj, digits=7):
    """Shorter JSON: 7 significant digits are enough for float32 reference values."""
    if isinstance(obj, float):
        return float(f"{obj:.{digits}g}")
    if isinstance(obj, list):
        return [round_floats(v, digits) for v in obj]
    if isinstance(obj, dict):
        return {k: round_floats(v, digits) for k, v in obj.items()}
    return obj


def graph_summary(path):
    """Inputs, outputs, opsets and distinct op types (subgraphs included) of one .onnx fixture."""
    m = onnx.load(path)
    ops, count = set(), 0

    def walk(g):
        nonlocal count
        for n in g.node:
            ops.add(n.op_type if not n.domain else f"{n.domain}:{n.op_type}")
            count += 1
            for a in n.attribute:
                if a.type == onnx.AttributeProto.GRAPH:
                    walk(a.g)

    walk(m.graph)
    dtype = lambda t: TensorProto.DataType.Name(t.tensor_type.elem_type).lower()
    dims = lambda t: [d.dim_param if d.dim_param else d.dim_value for d in t.tensor_type.shape.dim]
    return {"ir_version": m.ir_version, "opset_import": {(o.domain or "ai.onnx"): o.version for o in m.opset_import},
            "producer": f"{m.producer_name} {m.producer_version}".strip(),
            "inputs": [{"name": i.name, "dtype": dtype(i.type), "shape": dims(i.type)} for i in m.graph.input],
            "outputs": [{"name": o.name, "dtype": dtype(o.type), "shape": dims(o.type)} for o in m.graph.output],
            "nodes": count, "initializers": len(m.graph.initializer), "op_types": sorted(ops),
            "metadata_props": {p.key: p.value for p in m.metadata_props}}


def frontend_reference(clips_for_fe):
    """frontend-reference.json + frontend-reference.bin (float32 little-endian, offsets in the JSON)."""
    blob, entries = bytearray(), {}
    fb = slaney_mel_filterbank(257, 16000, 80, 0, 8000)
    fb_t = torchaudio.functional.melscale_fbanks(257, 0.0, 8000.0, 80, 16000, norm="slaney", mel_scale="slaney").T.double().numpy()
    fb_diff = float(np.abs(fb - fb_t).max())
    assert fb_diff < 1e-6, fb_diff

    def put(a):
        a = np.ascontiguousarray(a, "<f4")
        off = len(blob)
        blob.extend(a.tobytes())
        return {"byte_offset": off, "floats": int(a.size), "shape": list(a.shape)}

    for c in clips_for_fe:
        x = c["samples"]
        w = wav2vec2_normalize(x)
        x64 = x.astype(np.float64)
        feats, parts = nemo_logmel(x, return_parts=True)
        cross = float(np.abs(feats - nemo_logmel_torch(x)).max())
        assert cross < 1e-4, cross
        n = len(x)
        entries[c["id"]] = {
            "source": c["source"], "samples": n, "samples_sha256": c["sha256"],
            "wav2vec2": {
                "input_mean": float(x64.mean()), "input_var": float(x64.var()), "output_mean": float(w.astype(np.float64).mean()),
                "output_var": float(w.astype(np.float64).var()), "output_sum_abs": float(np.abs(w.astype(np.float64)).sum()),
                "first_100": w[:100].tolist(), "middle_100": {"start": n // 2, "values": w[n // 2 : n // 2 + 100].tolist()},
                "last_100": w[-100:].tolist()},
            "nemo_logmel": {
                "shape": list(feats.shape), "valid_frames": feats.shape[1], "data": put(feats),
                "per_feature_mean_before_norm": parts["mean"].tolist(), "per_feature_std_plus_eps": parts["std"].tolist(),
                "raw_log_mel_frame0": parts["logmel"][:, 0].tolist(), "raw_log_mel_frame_mid": parts["logmel"][:, feats.shape[1] // 2].tolist(),
                "sum": float(feats.astype(np.float64).sum()), "sum_abs": float(np.abs(feats.astype(np.float64)).sum()),
                "max_abs_diff_vs_torch_stft_and_torchaudio_fbank": cross},
        }
    nz = [(int(np.nonzero(r)[0][0]), int(np.nonzero(r)[0][-1])) if r.any() else None for r in fb]
    meta = {
        "about": "Front-end references computed in numpy (float64, stored float32) by scripts/foreign/make-fixtures.py, "
                 "independently of src/. Each nemo_logmel.data is in frontend-reference.bin: `floats` float32 little-endian "
                 "values from `byte_offset`, row-major in `shape`.",
        "bin": "frontend-reference.bin",
        "wav2vec2_conventions": {
            "what": "Wav2Vec2FeatureExtractor(do_normalize=True) on one utterance, no padding, no attention mask",
            "formula": "y = (x - mean(x)) / sqrt(var(x) + 1e-7)", "var": "population variance (divide by n)",
            "epsilon": W2V_EPS, "input": "16 kHz mono float32 samples in [-1, 1]", "arithmetic": "float64, output rounded to float32"},
        "nemo_conventions": {
            **NEMO_FE,
            "preemphasis_formula": "y[0] = x[0]; y[t] = x[t] - 0.97 x[t-1] (applied to the whole signal before framing)",
            "window_formula": "w[i] = 0.5 - 0.5 cos(2 pi i / 399), i = 0..399 (torch.hann_window(400, periodic=False)), "
                              "centred in the 512-point frame: zeros at 0..55 and 456..511",
            "framing": "signal padded with 256 zeros on each side (center=True, constant); frame t covers padded[160 t : 160 t + 512]; "
                       "frames = 1 + floor(n / 160)",
            "spectrum": "power |rfft(frame * window)|^2, 257 bins",
            "mel_filterbank": "Slaney mel scale (linear below 1 kHz, 200/3 Hz per mel; log above, step ln(6.4)/27), 82 points "
                              "evenly spaced in mel between 0 and 8000 Hz, triangles on the FFT bin frequencies linspace(0, 8000, 257), "
                              "each scaled by 2 / (f_right - f_left) (slaney area norm) = torchaudio melscale_fbanks(norm='slaney', "
                              "mel_scale='slaney') = librosa.filters.mel(sr=16000, n_fft=512, n_mels=80, fmin=0, fmax=8000)",
            "mel_filterbank_nonzero_bins_first_last": nz,
            "mel_filterbank_row_sums": fb.sum(1).tolist(),
            "log": "ln(mel + 2^-24)",
            "normalization": "per_feature over the valid frames: (v - mean_t v) / (sqrt(sum_t (v - mean)^2 / (T - 1)) + 1e-5)",
            "layout": "[80, T] row-major (mel bin major), as NeMo's audio_signal [N, 80, T] without the batch axis",
            "not_done": "no dither (eval), no pad_to frame padding, no masking beyond the valid length (one utterance)",
            "relation_to_earshot": "matches Earshot's own logmel-80 front end (config.json frontEnd) except normalisation is "
                                   "NeMo per_feature (Earshot calls the same formula per_utterance)"},
        "clips": entries,
    }
    return round_floats(meta), bytes(blob)


def main():
    import argparse
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=300, help="training steps per CTC model")
    ap.add_argument("--check-dir", default=os.path.join(tempfile.gettempdir(), "earshot-foreign-check"),
                    help="scratch folder for the onnxruntime-node comparison's inputs and torch outputs (not committed)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    os.makedirs(OUT, exist_ok=True)
    os.makedirs(os.path.join(OUT, "audio"), exist_ok=True)
    if os.path.isdir(args.check_dir):
        shutil.rmtree(args.check_dir)
    os.makedirs(args.check_dir)
    check = {"dir": args.check_dir, "cases": {}}

    synth_path = os.path.join(OUT, "audio", SYNTH_ID + ".wav")
    write_wav16(synth_path, synthetic_vowels())
    tmp = tempfile.mkdtemp()
    decoded = decode_shared([p for _, p, _ in TRAIN_CLIPS], tmp)
    shutil.rmtree(tmp)
    clips = [{"id": i, "source": f"shared/speech/{p}", "text": t, "samples": decoded[p]} for i, p, t in TRAIN_CLIPS]
    clips.append({"id": SYNTH_ID, "source": f"src/foreign/fixtures/audio/{SYNTH_ID}.wav", "text": SYNTH_TEXT, "samples": read_wav16(synth_path)})
    for c in clips:
        c["sha256"] = sha256(c["samples"])
    fe_real = {"id": FRONTEND_REAL[0], "source": f"shared/speech/{FRONTEND_REAL[1]}", "text": FRONTEND_REAL[2],
               "samples": read_flac16(os.path.join(SPEECH, FRONTEND_REAL[1]))}
    fe_real["sha256"] = sha256(fe_real["samples"])

    refs = {k: {"clips": {}} for k in ["wav2vec2-tiny/onnx/model.onnx", "wav2vec2-tiny/onnx/model_quantized.onnx",
                                        "nemo-conformer-tiny/model.onnx"]}
    make_wav2vec2(clips, refs, check, args.steps)
    nemo_meta = make_nemo(clips, refs, check, args.steps)
    make_whisper(check)

    fe_json, fe_bin = frontend_reference([clips[-1], fe_real])
    write_json(os.path.join(OUT, "frontend-reference.json"), fe_json)
    with open(os.path.join(OUT, "frontend-reference.bin"), "wb") as f:
        f.write(fe_bin)

    refs["wav2vec2-tiny/onnx/model.onnx"].update(
        input="input_values = wav2vec2 normalisation of the clip's 16 kHz samples, shape [1, n]", output="logits",
        decode="argmax per frame, collapse repeats, drop <pad> (id 0, the CTC blank), '|' → space, strip")
    refs["wav2vec2-tiny/onnx/model_quantized.onnx"].update(
        input="as model.onnx", output="logits",
        computed_by="torch emulation of DynamicQuantizeLinear + MatMulInteger + Cast + Mul (scripts/foreign/ort_dynamic_quant.py)",
        decode="as model.onnx")
    refs["nemo-conformer-tiny/model.onnx"].update(
        input="audio_signal = NeMo per_feature log-mel [1, 80, T] (frontend-reference.json conventions), length = [T] int64",
        output="logprobs", metadata=nemo_meta,
        decode="argmax per frame, collapse repeats, drop <blk> (id 63, last), join pieces, '▁' → space, strip")
    write_json(os.path.join(OUT, "reference-outputs.json"), round_floats({
        "about": "torch outputs of the fixture models (batch of one clip) from scripts/foreign/make-fixtures.py; "
                 "first_frame_first8 = logits[0, 0, :8], argmax = per-frame argmax ids",
        "clips": {c["id"]: {"source": c["source"], "text": c["text"], "samples": int(len(c["samples"])), "samples_sha256": c["sha256"],
                            "decoded_by": ("src/audio/decode.ts decodeMono(bytes, 16000) (Opus → 48 kHz → resample)"
                                           if c["source"].startswith("shared/") else "16-bit PCM WAV / 32768")}
                  for c in clips},
        "models": refs,
        "graphs": {os.path.relpath(f, OUT): graph_summary(f) for f in sorted(
            os.path.join(dp, n) for dp, _, ns in os.walk(OUT) for n in ns if n.endswith(".onnx"))}}))
    write_json(os.path.join(args.check_dir, "cases.json"), check["cases"])
    print(f"wrote {OUT}; comparing with onnxruntime-node", flush=True)
    subprocess.run(["npx", "--no-install", "tsx", os.path.join(HERE, "check-fixtures-ort.ts"), args.check_dir], check=True, cwd=REPO)
    shutil.rmtree(args.check_dir)


if __name__ == "__main__":
    main()
