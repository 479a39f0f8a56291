"""A tiny Citrinet/QuartzNet-style CTC model in plain PyTorch with the module names and mask arithmetic of
NeMo's ConvASREncoder (JasperBlocks of MaskedConv1d) + ConvASRDecoder, written from NeMo's documentation and
the QuartzNet / Citrinet papers (Kriman et al. 2020, https://arxiv.org/abs/1910.10261; Majumdar et al. 2021,
https://arxiv.org/abs/2104.01721) for make-citrinet-fixture.py. It is not NeMo (NeMo cannot be installed
here). What an importer meets in such an export is kept:

- encoder.encoder.<i>: JasperBlocks. Each repeat is a time-channel separable convolution: a depthwise
  MaskedConv1d (groups = channels, `mconv.<k>.conv`) then a pointwise one (kernel 1, `mconv.<k+1>.conv`),
  BatchNorm1d (folded into the pointwise Conv by the exporter), ReLU between repeats.
- MaskedConv1d zeroes the frames at or beyond each utterance's length before convolving, and updates the
  lengths with the convolution's arithmetic (stride 2 in the prolog: the only time reduction, factor 2).
- Citrinet-style squeeze-excitation at the end of each main block (`mconv.<n>`, module `fc.0` / `fc.2`,
  Linear without bias, ReLU, Sigmoid): block 1 pools over time with AdaptiveAvgPool1d(1) (unmasked, as
  older NeMo did; exported as GlobalAveragePool), block 2 with a masked mean (sum of the valid frames /
  length, as newer NeMo does; ReduceSum and Div).
- Residual branch `res.0.0` (pointwise MaskedConv1d) + `res.0.1` (BatchNorm), added before the block's ReLU.
- ConvASRDecoder: decoder.decoder_layers.0 = Conv1d(C → vocab+1, k=1), log_softmax over the last axis.
"""

import torch
from torch import nn

from tiny_conformer import ConvASRDecoder  # the same 1×1-conv head as NeMo's Conformer-CTC


def time_mask(lens, t):
    """[N, 1, T] boolean: True on valid frames."""
    return (torch.arange(t, device=lens.device).expand(lens.size(0), t) < lens.unsqueeze(1)).unsqueeze(1)


class MaskedConv1d(nn.Module):
    def __init__(self, cin, cout, kernel_size, stride=1, groups=1, bias=False):
        super().__init__()
        self.conv = nn.Conv1d(cin, cout, kernel_size, stride=stride, padding=kernel_size // 2, groups=groups, bias=bias)

    def get_seq_len(self, lens):
        c = self.conv
        return torch.div(lens + 2 * c.padding[0] - c.dilation[0] * (c.kernel_size[0] - 1) - 1, c.stride[0], rounding_mode="floor") + 1

    def forward(self, x, lens):
        x = x.masked_fill(~time_mask(lens, x.size(2)), 0.0)
        return self.conv(x), self.get_seq_len(lens)


class SqueezeExcite(nn.Module):
    def __init__(self, channels, reduction, masked):
        super().__init__()
        self.masked = masked
        self.pool = nn.AdaptiveAvgPool1d(1)
        self.fc = nn.Sequential(nn.Linear(channels, channels // reduction, bias=False), nn.ReLU(inplace=True),
                                nn.Linear(channels // reduction, channels, bias=False))

    def forward(self, x, lens):
        if self.masked:
            y = x.masked_fill(~time_mask(lens, x.size(2)), 0.0).sum(dim=-1, keepdim=True) / lens.view(-1, 1, 1).to(x.dtype)
        else:
            y = self.pool(x)  # [N, C, 1]
        y = torch.sigmoid(self.fc(y.transpose(1, 2))).transpose(1, 2)
        return x * y


class JasperBlock(nn.Module):
    def __init__(self, cin, cout, kernel_size, repeat=1, stride=1, residual=True, se=None):
        super().__init__()
        layers, c = [], cin
        for r in range(repeat):
            layers += [MaskedConv1d(c, c, kernel_size, stride=stride if r == 0 else 1, groups=c),
                       MaskedConv1d(c, cout, 1), nn.BatchNorm1d(cout)]
            if r < repeat - 1:
                layers += [nn.ReLU(inplace=True)]
            c = cout
        if se is not None:
            layers.append(SqueezeExcite(cout, 2, masked=se == "masked"))
        self.mconv = nn.ModuleList(layers)
        self.res = nn.ModuleList([nn.ModuleList([MaskedConv1d(cin, cout, 1), nn.BatchNorm1d(cout)])]) if residual else None
        self.mout = nn.Sequential(nn.ReLU(inplace=True))

    def forward(self, x, lens):
        out, out_lens = x, lens
        for layer in self.mconv:
            if isinstance(layer, MaskedConv1d):
                out, out_lens = layer(out, out_lens)
            elif isinstance(layer, SqueezeExcite):
                out = layer(out, out_lens)
            else:
                out = layer(out)
        if self.res is not None:
            r, _ = self.res[0][0](x, lens)
            out = out + self.res[0][1](r)
        return self.mout(out), out_lens


class ConvASREncoder(nn.Module):
    def __init__(self, feat_in, channels, kernels):
        super().__init__()
        self.encoder = nn.ModuleList([
            JasperBlock(feat_in, channels, kernels[0], stride=2, residual=False),  # prolog
            JasperBlock(channels, channels, kernels[1], repeat=2, se="pool"),
            JasperBlock(channels, channels, kernels[2], repeat=2, se="masked"),
            JasperBlock(channels, channels, kernels[3], residual=False),  # epilog
        ])

    def forward(self, audio_signal, length):
        x, lens = audio_signal, length
        for block in self.encoder:
            x, lens = block(x, lens)
        return x, lens


class EncDecCTCModelBPE(nn.Module):
    """forward(audio_signal [N, feat, T], length [N]) → logprobs [N, ⌈T/2⌉, vocab + 1]."""

    def __init__(self, vocab_size, feat_in=80, channels=48, kernels=(5, 7, 9, 5)):
        super().__init__()
        self.encoder = ConvASREncoder(feat_in, channels, kernels)
        self.decoder = ConvASRDecoder(channels, vocab_size)

    def forward(self, audio_signal, length):
        encoded, _ = self.encoder(audio_signal, length)
        return self.decoder(encoded)
