"""Our own small reader and writer of the safetensors layout (https://huggingface.co/docs/safetensors),
the one src/runtime/checkpoint.ts writes: an 8-byte little-endian header length N, N bytes of JSON
mapping each tensor name to its dtype, shape and byte range (free-form strings under
"__metadata__"), then the raw little-endian tensor bytes. The `safetensors` pip package is not
available offline, and this is all we need of it."""

import json
import struct

import numpy as np

_DTYPES = {"F32": np.float32, "F64": np.float64, "F16": np.float16, "I32": np.int32, "I64": np.int64, "I16": np.int16, "U8": np.uint8}
_NAMES = {np.dtype(v): k for k, v in _DTYPES.items()}


def read_safetensors(path_or_bytes):
    """Returns ({name: numpy array}, metadata dict)."""
    if isinstance(path_or_bytes, (bytes, bytearray, memoryview)):
        buf = bytes(path_or_bytes)
    else:
        with open(path_or_bytes, "rb") as f:
            buf = f.read()
    if len(buf) < 8:
        raise ValueError("safetensors file is truncated: no header length")
    (n,) = struct.unpack("<Q", buf[:8])
    if 8 + n > len(buf):
        raise ValueError(f"safetensors file is truncated: header says {n} bytes, file has {len(buf) - 8}")
    header = json.loads(buf[8 : 8 + n].decode("utf-8"))
    meta = header.pop("__metadata__", {}) or {}
    base = 8 + n
    out = {}
    for name, e in header.items():
        dt = _DTYPES.get(e["dtype"])
        if dt is None:
            raise ValueError(f"tensor {name}: unsupported dtype {e['dtype']}")
        begin, end = e["data_offsets"]
        count = int(np.prod(e["shape"], dtype=np.int64))
        if end - begin != count * np.dtype(dt).itemsize or base + end > len(buf):
            raise ValueError(f"tensor {name}: {end - begin} bytes for shape {e['shape']} ({e['dtype']})")
        out[name] = np.frombuffer(buf, dtype=np.dtype(dt).newbyteorder("<"), count=count, offset=base + begin).reshape(e["shape"]).copy()
    return out, meta


def write_safetensors(path, tensors, metadata=None):
    """Writes {name: array-like} (numpy or torch, on any device) with string metadata, atomically."""
    header = {"__metadata__": {k: str(v) for k, v in (metadata or {}).items()}}
    arrays = []
    offset = 0
    for name, t in tensors.items():
        if hasattr(t, "detach"):
            t = t.detach().cpu().numpy()
        a = np.ascontiguousarray(np.asarray(t))
        if a.dtype not in _NAMES:
            raise ValueError(f"tensor {name}: unsupported dtype {a.dtype}")
        a = a.astype(a.dtype.newbyteorder("<"), copy=False)
        header[name] = {"dtype": _NAMES[a.dtype], "shape": list(a.shape), "data_offsets": [offset, offset + a.nbytes]}
        offset += a.nbytes
        arrays.append(a)
    js = json.dumps(header, separators=(",", ":")).encode("utf-8")
    js += b" " * (-len(js) % 8)  # tensor data starts 8-byte aligned, as checkpoint.ts writes it
    tmp = f"{path}.tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(js)))
        f.write(js)
        for a in arrays:
            f.write(a.tobytes())
    import os

    os.replace(tmp, path)
