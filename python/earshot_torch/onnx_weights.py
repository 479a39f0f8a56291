"""Reads the float32 initializers (the weights) of a model.onnx as our engine writes it
(src/engine/onnx-proto.ts), with a protobuf walk of the few fields involved, so a model directory
loads with nothing but numpy. ModelProto.graph is field 7, GraphProto.initializer field 5; in a
TensorProto dims is 1, data_type 2, float_data 4, name 8, raw_data 9
(https://github.com/onnx/onnx/blob/main/onnx/onnx.proto)."""

import numpy as np


def _varint(b, i):
    shift = result = 0
    while True:
        c = b[i]
        i += 1
        result |= (c & 0x7F) << shift
        if c < 0x80:
            return result, i
        shift += 7


def _fields(b, start=0, end=None):
    """Yields (field number, wire type, value or (begin, end) for length-delimited)."""
    i, end = start, len(b) if end is None else end
    while i < end:
        key, i = _varint(b, i)
        f, wt = key >> 3, key & 7
        if wt == 0:
            v, i = _varint(b, i)
            yield f, wt, v
        elif wt == 2:
            n, i = _varint(b, i)
            yield f, wt, (i, i + n)
            i += n
        elif wt == 1:
            yield f, wt, b[i : i + 8]
            i += 8
        elif wt == 5:
            yield f, wt, b[i : i + 4]
            i += 4
        else:
            raise ValueError(f"model.onnx: unsupported protobuf wire type {wt}")


def _tensor(b, s, e):
    dims, dtype, name, raw, floats = [], 0, "", None, []
    for f, wt, v in _fields(b, s, e):
        if f == 1:
            if wt == 2:  # packed
                j = v[0]
                while j < v[1]:
                    d, j = _varint(b, j)
                    dims.append(d)
            else:
                dims.append(v)
        elif f == 2:
            dtype = v
        elif f == 8:
            name = bytes(b[v[0] : v[1]]).decode("utf-8")
        elif f == 9:
            raw = bytes(b[v[0] : v[1]])
        elif f == 4:
            floats.append(np.frombuffer(bytes(b[v[0] : v[1]]) if wt == 2 else bytes(v), "<f4"))
    if dtype != 1:  # FLOAT only: the weights
        return name, None
    data = np.frombuffer(raw, "<f4").copy() if raw is not None else (np.concatenate(floats) if floats else np.zeros(0, np.float32))
    return name, data.reshape(dims)


def read_onnx_weights(path):
    """{name: float32 array} of every float initializer except the builder's constants (const_*)."""
    with open(path, "rb") as f:
        b = memoryview(f.read())
    out = {}
    for f, _, v in _fields(b):
        if f != 7:
            continue
        for g, _, w in _fields(b, *v):
            if g == 5:
                name, data = _tensor(b, *w)
                if data is not None and not name.startswith("const_"):
                    out[name] = data
    return out
