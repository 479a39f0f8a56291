"""Dynamic int8 quantisation of MatMul weights laid out as onnxruntime.quantization.quantize_dynamic
lays it out (its IntegerOps MatMul path), written with the `onnx` package because onnxruntime's
Python package is not installable here. Layout followed (per MatMul whose B input is a float
initializer; https://onnxruntime.ai/docs/performance/model-optimizations/quantization.html):

    A ─ DynamicQuantizeLinear "<A>_QuantizeLinear" → <A>_quantized (uint8), <A>_scale, <A>_zero_point
        (one per activation, shared by every MatMul that reads it, e.g. q/k/v)
    B → initializers <B>_quantized (uint8), <B>_scale (float, scalar), <B>_zero_point (uint8, scalar)
    MatMulInteger "<node>_quant"(<A>_quantized, <B>_quantized, <A>_zero_point, <B>_zero_point)
        → <out>_output_quantized (int32)
    Cast "<out>_output_quantized_cast"(to=FLOAT) → <out>_output_quantized_cast_output
    Mul "<node>_quant_scales_mul"(<A>_scale, <B>_scale) → <node>_quant_scales_mul:0
    Mul "<node>_quant_output_scale_mul"(cast output, scales product) → <out> (the original output name)

Settings emulated: weight_type=QuantType.QUInt8 (asymmetric, so weight zero points are not 0 and an
importer's dequantisation must subtract them), per_channel=False, reduce_range=False,
op_types_to_quantize=["MatMul"] (no ConvInteger). The model's producer becomes "onnx.quantize" 0.1.0 and it imports the com.microsoft
domain, as quantize_dynamic's output does. `DynamicQuantLinear` is the same arithmetic in torch, so
the fixture script can compute the quantised model's reference output without onnxruntime.
"""

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper


def quantize_weight_uint8(w):
    """(uint8 values, float32 scale, uint8 zero point): asymmetric over [min(w, 0), max(w, 0)]."""
    rmin, rmax = min(float(w.min()), 0.0), max(float(w.max()), 0.0)
    scale = np.float32((rmax - rmin) / 255.0) if rmax > rmin else np.float32(1.0)
    zero_point = int(np.clip(np.round(-rmin / float(scale)), 0, 255))
    q = np.clip(np.round(w.astype(np.float64) / float(scale)) + zero_point, 0, 255).astype(np.uint8)
    return q, scale, np.uint8(zero_point)


def quantize_dynamic_matmul(model: onnx.ModelProto) -> onnx.ModelProto:
    model = onnx.ModelProto.FromString(model.SerializeToString())
    graph = model.graph
    inits = {t.name: t for t in graph.initializer}
    done_weights, done_activations, nodes = set(), set(), []
    for node in graph.node:
        b = node.input[1] if node.op_type == "MatMul" else None
        if b is None or b not in inits or inits[b].data_type != TensorProto.FLOAT:
            nodes.append(node)
            continue
        a, out, name = node.input[0], node.output[0], node.name
        if b not in done_weights:
            q, scale, zp = quantize_weight_uint8(numpy_helper.to_array(inits[b]))
            graph.initializer.extend([numpy_helper.from_array(q, b + "_quantized"),
                                      numpy_helper.from_array(np.array(scale, np.float32), b + "_scale"),
                                      numpy_helper.from_array(np.array(zp, np.uint8), b + "_zero_point")])
            done_weights.add(b)
        if a not in done_activations:
            nodes.append(helper.make_node("DynamicQuantizeLinear", [a], [a + "_quantized", a + "_scale", a + "_zero_point"],
                                          a + "_QuantizeLinear"))
            done_activations.add(a)
        out_q = out + "_output_quantized"
        nodes.append(helper.make_node("MatMulInteger", [a + "_quantized", b + "_quantized", a + "_zero_point", b + "_zero_point"],
                                      [out_q], name + "_quant"))
        nodes.append(helper.make_node("Cast", [out_q], [out_q + "_cast_output"], out_q + "_cast", to=TensorProto.FLOAT))
        scales = name + "_quant_scales_mul"
        nodes.append(helper.make_node("Mul", [a + "_scale", b + "_scale"], [scales + ":0"], scales))
        nodes.append(helper.make_node("Mul", [out_q + "_cast_output", scales + ":0"], [out], name + "_quant_output_scale_mul"))
    del graph.node[:]
    graph.node.extend(nodes)
    # Drop the float weights nothing reads any more (quantize_dynamic's remove_unused_constant).
    used = {i for n in graph.node for i in n.input} | {o.name for o in graph.output}
    kept = [t for t in graph.initializer if t.name in used]
    del graph.initializer[:]
    graph.initializer.extend(kept)
    model.producer_name, model.producer_version = "onnx.quantize", "0.1.0"
    if not any(o.domain == "com.microsoft" for o in model.opset_import):
        model.opset_import.extend([helper.make_opsetid("com.microsoft", 1)])
    return model


def dynamic_quantize_linear(x):
    """ONNX DynamicQuantizeLinear on a float32 tensor: (uint8 values as float, scale, zero point)."""
    lo, hi = torch.clamp(x.min(), max=0.0), torch.clamp(x.max(), min=0.0)
    scale = ((hi - lo) / 255.0).to(torch.float32)
    zp = torch.clamp(torch.round(-lo / scale), 0, 255)
    return torch.clamp(torch.round(x / scale) + zp, 0, 255), scale, zp


class DynamicQuantLinear(torch.nn.Module):
    """nn.Linear as the quantised graph computes it: MatMulInteger on per-tensor uint8 activations
    and weights, Cast, × (activation scale · weight scale), then the float bias Add."""

    def __init__(self, linear: torch.nn.Linear):
        super().__init__()
        q, scale, zp = quantize_weight_uint8(linear.weight.detach().t().contiguous().numpy())  # B = Wᵀ [in, out]
        self.register_buffer("wq", torch.from_numpy(q.astype(np.float64)) - float(zp))
        self.w_scale = float(scale)
        self.bias = None if linear.bias is None else linear.bias.detach().clone()

    def forward(self, x):
        xq, x_scale, x_zp = dynamic_quantize_linear(x)
        acc = torch.matmul((xq - x_zp).to(torch.float64), self.wq).to(torch.float32)  # exact int32 sums
        y = acc * (x_scale * torch.tensor(self.w_scale, dtype=torch.float32))
        return y if self.bias is None else y + self.bias
