"""A tiny Conformer-CTC in plain PyTorch with the structure, module names and mask arithmetic of NeMo's
EncDecCTCModelBPE (ConformerEncoder + ConvASRDecoder), written from NeMo's documentation and the
Conformer paper (Gulati et al. 2020, https://arxiv.org/abs/2005.08100) for make-fixtures.py. It is
not NeMo: NeMo cannot be installed here. What an importer meets in a real NeMo export is kept:

- ConvSubsampling "striding": Conv2d(1→C, 3×3, stride 2, pad 1) → ReLU → Conv2d(C→C, …) → ReLU →
  Linear(C·F/4 → d_model); lengths follow calc_length (float Div/Floor arithmetic, cast to int).
- RelPositionalEncoding (x·√d_model, sinusoid table from +(L−1) down to −(L−1), sliced per input length)
  and RelPositionMultiHeadAttention (linear_q/k/v/out, linear_pos without bias, pos_bias_u/v, rel_shift,
  masked_fill −10000, softmax, masked_fill 0).
- ConformerLayer: ½·FF (Swish) → self-attention → conv module (pointwise_conv1 → GLU → pad-mask →
  depthwise Conv1d → BatchNorm1d → Swish → pointwise_conv2) → ½·FF → norm_out, each sub-block pre-norm.
- pad_mask / att_mask computed from the `length` input with arange < length, logical_and and ~.
- ConvASRDecoder: Conv1d(d_model → vocab+1, k=1) then log_softmax over the last axis.
"""

import math

import torch
import torch.nn.functional as F
from torch import nn


def calc_length(lengths, all_paddings=2, kernel_size=3, stride=2, repeat_num=2):
    """Frames after `repeat_num` stride-2 convolutions, in float arithmetic as NeMo computes it."""
    add_pad = all_paddings - kernel_size
    for _ in range(repeat_num):
        lengths = torch.floor(torch.div(lengths.to(dtype=torch.float) + add_pad, stride) + 1.0)
    return lengths.to(dtype=torch.int)


class ConvSubsampling(nn.Module):
    def __init__(self, feat_in, feat_out, conv_channels):
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(1, conv_channels, 3, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(conv_channels, conv_channels, 3, stride=2, padding=1), nn.ReLU())
        out_f = calc_length(torch.tensor(feat_in)).item()
        self.out = nn.Linear(conv_channels * out_f, feat_out)

    def forward(self, x, lengths):
        x = self.conv(x.unsqueeze(1))  # [B, C, T/4, F/4]
        b, c, t, f = x.size()
        x = self.out(x.transpose(1, 2).reshape(b, t, -1))
        return x, calc_length(lengths)


class RelPositionalEncoding(nn.Module):
    def __init__(self, d_model, max_len):
        super().__init__()
        self.xscale = math.sqrt(d_model)
        positions = torch.arange(max_len - 1, -max_len, -1, dtype=torch.float32).unsqueeze(1)
        div_term = torch.exp(torch.arange(0, d_model, 2, dtype=torch.float32) * -(math.log(10000.0) / d_model))
        pe = torch.zeros(positions.size(0), d_model)
        pe[:, 0::2] = torch.sin(positions * div_term)
        pe[:, 1::2] = torch.cos(positions * div_term)
        self.register_buffer("pe", pe.unsqueeze(0), persistent=False)

    def forward(self, x):
        x = x * self.xscale
        input_len = x.size(1)
        center_pos = self.pe.size(1) // 2 + 1
        pos_emb = self.pe[:, center_pos - input_len : center_pos + input_len - 1]
        return x, pos_emb


class RelPositionMultiHeadAttention(nn.Module):
    def __init__(self, n_head, n_feat):
        super().__init__()
        self.d_k, self.h = n_feat // n_head, n_head
        self.s_d_k = math.sqrt(self.d_k)
        self.linear_q, self.linear_k, self.linear_v, self.linear_out = (nn.Linear(n_feat, n_feat) for _ in range(4))
        self.linear_pos = nn.Linear(n_feat, n_feat, bias=False)
        self.pos_bias_u = nn.Parameter(torch.zeros(self.h, self.d_k))
        self.pos_bias_v = nn.Parameter(torch.zeros(self.h, self.d_k))

    @staticmethod
    def rel_shift(x):
        """[b, h, t1, 2·t1−1] relative scores → aligned to absolute key positions (Transformer-XL)."""
        b, h, qlen, pos_len = x.size()
        x = F.pad(x, pad=(1, 0))
        x = x.view(b, h, -1, qlen)
        return x[:, :, 1:].view(b, h, qlen, pos_len)

    def forward(self, x, mask, pos_emb):
        n_batch = x.size(0)
        q = self.linear_q(x).view(n_batch, -1, self.h, self.d_k)  # [B, T, h, d_k]
        k = self.linear_k(x).view(n_batch, -1, self.h, self.d_k).transpose(1, 2)
        v = self.linear_v(x).view(n_batch, -1, self.h, self.d_k).transpose(1, 2)
        p = self.linear_pos(pos_emb).view(pos_emb.size(0), -1, self.h, self.d_k).transpose(1, 2)
        q_with_bias_u = (q + self.pos_bias_u).transpose(1, 2)
        q_with_bias_v = (q + self.pos_bias_v).transpose(1, 2)
        matrix_ac = torch.matmul(q_with_bias_u, k.transpose(-2, -1))
        matrix_bd = self.rel_shift(torch.matmul(q_with_bias_v, p.transpose(-2, -1)))
        matrix_bd = matrix_bd[:, :, :, : matrix_ac.size(-1)]
        scores = (matrix_ac + matrix_bd) / self.s_d_k
        mask = mask.unsqueeze(1)
        scores = scores.masked_fill(mask, -10000.0)
        attn = torch.softmax(scores, dim=-1).masked_fill(mask, 0.0)
        out = torch.matmul(attn, v).transpose(1, 2).reshape(n_batch, -1, self.h * self.d_k)
        return self.linear_out(out)


class Swish(nn.Module):
    def forward(self, x):
        return x * torch.sigmoid(x)


class ConformerFeedForward(nn.Module):
    def __init__(self, d_model, d_ff):
        super().__init__()
        self.linear1, self.activation, self.linear2 = nn.Linear(d_model, d_ff), Swish(), nn.Linear(d_ff, d_model)

    def forward(self, x):
        return self.linear2(self.activation(self.linear1(x)))


class ConformerConvolution(nn.Module):
    def __init__(self, d_model, kernel_size):
        super().__init__()
        self.pointwise_conv1 = nn.Conv1d(d_model, 2 * d_model, 1)
        self.depthwise_conv = nn.Conv1d(d_model, d_model, kernel_size, groups=d_model, padding=(kernel_size - 1) // 2)
        self.batch_norm = nn.BatchNorm1d(d_model)
        self.activation = Swish()
        self.pointwise_conv2 = nn.Conv1d(d_model, d_model, 1)

    def forward(self, x, pad_mask):
        x = self.pointwise_conv1(x.transpose(1, 2))
        x = F.glu(x, dim=1)
        x = x.masked_fill(pad_mask.unsqueeze(1), 0.0)
        x = self.activation(self.batch_norm(self.depthwise_conv(x)))
        return self.pointwise_conv2(x).transpose(1, 2)


class ConformerLayer(nn.Module):
    def __init__(self, d_model, d_ff, n_heads, conv_kernel_size):
        super().__init__()
        self.fc_factor = 0.5
        self.norm_feed_forward1 = nn.LayerNorm(d_model)
        self.feed_forward1 = ConformerFeedForward(d_model, d_ff)
        self.norm_self_att = nn.LayerNorm(d_model)
        self.self_attn = RelPositionMultiHeadAttention(n_heads, d_model)
        self.norm_conv = nn.LayerNorm(d_model)
        self.conv = ConformerConvolution(d_model, conv_kernel_size)
        self.norm_feed_forward2 = nn.LayerNorm(d_model)
        self.feed_forward2 = ConformerFeedForward(d_model, d_ff)
        self.norm_out = nn.LayerNorm(d_model)

    def forward(self, x, att_mask, pos_emb, pad_mask):
        residual = x + self.feed_forward1(self.norm_feed_forward1(x)) * self.fc_factor
        residual = residual + self.self_attn(self.norm_self_att(residual), att_mask, pos_emb)
        residual = residual + self.conv(self.norm_conv(residual), pad_mask)
        residual = residual + self.feed_forward2(self.norm_feed_forward2(residual)) * self.fc_factor
        return self.norm_out(residual)


class ConformerEncoder(nn.Module):
    def __init__(self, feat_in, n_layers, d_model, ff_expansion_factor, n_heads, conv_kernel_size,
                 subsampling_conv_channels, pos_emb_max_len):
        super().__init__()
        self.pre_encode = ConvSubsampling(feat_in, d_model, subsampling_conv_channels)
        self.pos_enc = RelPositionalEncoding(d_model, pos_emb_max_len)
        self.layers = nn.ModuleList(
            ConformerLayer(d_model, d_model * ff_expansion_factor, n_heads, conv_kernel_size) for _ in range(n_layers))

    def forward(self, audio_signal, length):
        x, length = self.pre_encode(torch.transpose(audio_signal, 1, 2), length)
        length = length.to(torch.int64)
        x, pos_emb = self.pos_enc(x)
        max_audio_length = x.size(1)
        pad_mask = torch.arange(0, max_audio_length, device=x.device).expand(length.size(0), -1) < length.unsqueeze(-1)
        pad_mask_for_att_mask = pad_mask.unsqueeze(1).repeat([1, max_audio_length, 1])
        att_mask = ~torch.logical_and(pad_mask_for_att_mask, pad_mask_for_att_mask.transpose(1, 2))
        pad_mask = ~pad_mask
        for layer in self.layers:
            x = layer(x, att_mask, pos_emb, pad_mask)
        return torch.transpose(x, 1, 2), length  # [B, d_model, T']


class ConvASRDecoder(nn.Module):
    def __init__(self, feat_in, num_classes):
        super().__init__()
        self.decoder_layers = nn.Sequential(nn.Conv1d(feat_in, num_classes + 1, kernel_size=1, bias=True))

    def forward(self, encoder_output):
        return F.log_softmax(self.decoder_layers(encoder_output).transpose(1, 2), dim=-1)


class EncDecCTCModelBPE(nn.Module):
    """forward(audio_signal [N, feat, T], length [N]) → logprobs [N, T', vocab + 1], as NeMo exports it."""

    def __init__(self, vocab_size, feat_in=80, n_layers=2, d_model=32, ff_expansion_factor=4, n_heads=4,
                 conv_kernel_size=15, subsampling_conv_channels=16, pos_emb_max_len=256):
        super().__init__()
        self.encoder = ConformerEncoder(feat_in, n_layers, d_model, ff_expansion_factor, n_heads, conv_kernel_size,
                                        subsampling_conv_channels, pos_emb_max_len)
        self.decoder = ConvASRDecoder(d_model, vocab_size)

    def forward(self, audio_signal, length):
        encoded, _ = self.encoder(audio_signal, length)
        return self.decoder(encoded)
