#!/usr/bin/env python3
"""The GPU measurement of issue 14: our training steps on onnxruntime-node's WebGPU execution provider
beside the same reference encoder in PyTorch on CUDA, on one machine, printed as ONE JSON object.

On the device machine (an NVIDIA GPU, PyTorch, no network, no Node), after
scripts/device/prepare-gpu-bench.sh has built .gpu-bench/ here (Node, onnxruntime-node and the
bundled TypeScript, ~37 MiB, xz-compressed):

  device tool: run  python3 scripts/device/gpu-bench.py  with carry [".gpu-bench"], timeout_s 540

Parts, in this order, each in its own process with its own timeout, all under one deadline
(--deadline-s, default 450 s; with unpacking the whole stays under 8 minutes), so a part that hangs
or crashes costs only its own figures (and keeps those it printed before it was stopped):
  vulkan_devices                 the Vulkan devices the loader sees (what Dawn can choose from)
  torch_cuda_reference           python/earshot_torch/reference_encoder.py on CUDA, full and reduced size
  ort_webgpu_reference_full      the reference encoder's training step (bench:engine's graph) on the
  ort_webgpu_reference_reduced   WebGPU EP, full (8 × 300) and reduced (2 × 100) size
  ort_webgpu_speech_lora         the speech model's step, LoRA as `earshot finetune` trains it, and
  ort_webgpu_speech_full         every parameter, on a batch of --speech (default 7 × 512 frames: the
                                 recipe's 40 s batch in the 512-frame bucket)
  ort_cpu_reference_full         the reference step on onnxruntime-node's CPU EP, same machine, for scale
Medians exclude --warmup steps (the first WebGPU step compiles every shader). A step is forward +
backward + optimizer + the loss read back, as in bench:engine and REFERENCE-ENCODER.md.

The JSON: `parts` (each part's status, seconds and result), `summary` (the medians side by side),
`ratios` (WebGPU over PyTorch CUDA, WebGPU over onnxruntime CPU, speech full over LoRA), `vulkan`
(loader, driver files, devices), `software_vulkan` (true when the only Vulkan device is a CPU, as with
Mesa's lavapipe: those figures measure a software driver, not a GPU). It is also written to
$OUT/gpu-bench.json when OUT is set.

Checked here without a GPU on Mesa 25 lavapipe (Debian bookworm-backports), small sizes:
  /usr/bin/python3 scripts/device/gpu-bench.py --vk-icd /usr/share/vulkan/icd.d/lvp_icd.json \\
      --reference-sizes reduced --speech 1x128 --warmup 1 --steps 3 --no-cpu-reference

Vulkan: if the machine's loader (libvulkan.so.1) or GL dispatch libraries are missing, the copies in
.gpu-bench/lib (Debian's libvulkan1, libglvnd0, …) are put on LD_LIBRARY_PATH; an NVIDIA driver file
(nvidia_icd.json, also under /usr/local/nvidia) becomes the only VK_DRIVER_FILES entry, so Dawn cannot
pick a software device instead. --vk-icd names the driver file outright.

--parts-file FILE replaces the part table (a JSON list of {"name", "cmd", "timeout_s"}; {python},
{node}, {app}, {root} in cmd are filled in); scripts/device/gpu-bench.test.ts uses it to check the
timeouts and the assembly without a GPU.
"""

import argparse
import ctypes
import glob
import json
import lzma
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUNDLE = os.path.join(ROOT, ".gpu-bench")


def tail(text, n=1500):
    text = text.decode("utf-8", "replace") if isinstance(text, bytes) else (text or "")
    return text[-n:]


def last_json(stdout):
    """The last line of stdout that is a JSON object (parts print one after every step)."""
    for line in reversed(tail(stdout, 10**7).splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                return json.loads(line)
            except ValueError:
                continue
    return None


def run_part(cmd, timeout_s, env, cwd):
    """Runs one part in its own process group; on timeout the whole group is killed."""
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=cwd, start_new_session=True)
    timed_out = False
    try:
        out, err = p.communicate(timeout=max(1, timeout_s))
    except subprocess.TimeoutExpired:
        timed_out = True
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        out, err = p.communicate()
    result = last_json(out)
    status = "timed_out" if timed_out else ("ok" if p.returncode == 0 and result is not None else "failed")
    part = {"status": status, "seconds": round(time.monotonic() - t0, 1), "exit_code": None if timed_out else p.returncode}
    if timed_out:
        part["timeout_s"] = round(timeout_s, 1)
    if result is not None:
        part["result"] = result
    if status != "ok":
        part["stderr_tail"] = tail(err)
        if result is None:
            part["stdout_tail"] = tail(out, 500)
    return part


# --- the Vulkan devices the loader sees (run as a part, in a child process: a driver may hang) -------

class _PhysicalDeviceProperties(ctypes.Structure):
    # VkPhysicalDeviceProperties up to deviceName/pipelineCacheUUID; the limits that follow are left
    # unread, with room to spare for the driver to write them
    _fields_ = [("apiVersion", ctypes.c_uint32), ("driverVersion", ctypes.c_uint32), ("vendorID", ctypes.c_uint32),
                ("deviceID", ctypes.c_uint32), ("deviceType", ctypes.c_uint32), ("deviceName", ctypes.c_char * 256),
                ("pipelineCacheUUID", ctypes.c_uint8 * 16), ("rest", ctypes.c_uint8 * 2048)]


class _InstanceCreateInfo(ctypes.Structure):
    _fields_ = [("sType", ctypes.c_uint32), ("pNext", ctypes.c_void_p), ("flags", ctypes.c_uint32),
                ("pApplicationInfo", ctypes.c_void_p), ("enabledLayerCount", ctypes.c_uint32),
                ("ppEnabledLayerNames", ctypes.c_void_p), ("enabledExtensionCount", ctypes.c_uint32),
                ("ppEnabledExtensionNames", ctypes.c_void_p)]


DEVICE_TYPES = {0: "other", 1: "integrated-gpu", 2: "discrete-gpu", 3: "virtual-gpu", 4: "cpu"}


def vulkan_devices():
    vk = ctypes.CDLL("libvulkan.so.1")
    vk.vkCreateInstance.restype = ctypes.c_int32
    vk.vkEnumeratePhysicalDevices.restype = ctypes.c_int32
    inst = ctypes.c_void_p()
    res = vk.vkCreateInstance(ctypes.byref(_InstanceCreateInfo(sType=1)), None, ctypes.byref(inst))
    if res != 0:
        return {"error": f"vkCreateInstance returned {res}", "devices": []}
    n = ctypes.c_uint32(0)
    vk.vkEnumeratePhysicalDevices(inst, ctypes.byref(n), None)
    handles = (ctypes.c_void_p * n.value)()
    vk.vkEnumeratePhysicalDevices(inst, ctypes.byref(n), handles)
    devices = []
    for h in handles[: n.value]:
        p = _PhysicalDeviceProperties()
        vk.vkGetPhysicalDeviceProperties(ctypes.c_void_p(h), ctypes.byref(p))
        v = p.driverVersion
        # NVIDIA packs its driver version its own way (10.8.8.6 bits); others use Vulkan's 10.10.12
        driver = f"{v >> 22}.{(v >> 14) & 0xFF}.{(v >> 6) & 0xFF}" if p.vendorID == 0x10DE else f"{v >> 22}.{(v >> 12) & 0x3FF}.{v & 0xFFF}"
        a = p.apiVersion
        devices.append({"name": p.deviceName.decode("utf-8", "replace"), "type": DEVICE_TYPES.get(p.deviceType, str(p.deviceType)),
                        "vendor_id": hex(p.vendorID), "device_id": hex(p.deviceID), "driver_version": driver,
                        "vulkan": f"{a >> 22}.{(a >> 12) & 0x3FF}.{a & 0xFFF}"})
    vk.vkDestroyInstance(inst, None)
    return {"devices": devices}


# --- setting up what the bundle carries ------------------------------------------------------------

def unpack(bundle, dest):
    """Copies the bundle's app to dest and expands every .xz in it (Node, libonnxruntime)."""
    if not os.path.exists(os.path.join(bundle, "node.xz")):
        raise FileNotFoundError(f"{bundle}/node.xz is missing: run scripts/device/prepare-gpu-bench.sh here and carry .gpu-bench")
    shutil.copytree(os.path.join(bundle, "app"), os.path.join(dest, "app"), symlinks=True)
    shutil.copy(os.path.join(bundle, "node.xz"), dest)
    for d, _, files in os.walk(dest):
        for f in files:
            if f.endswith(".xz"):
                src = os.path.join(d, f)
                with lzma.open(src) as i, open(src[:-3], "wb") as o:
                    shutil.copyfileobj(i, o, 1 << 20)
                os.chmod(src[:-3], 0o755)
                os.remove(src)
    return os.path.join(dest, "node"), os.path.join(dest, "app")


def system_libs():
    try:
        return subprocess.run(["ldconfig", "-p"], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return ""


def vulkan_env(env, dest, force_icd):
    """LD_LIBRARY_PATH and VK_DRIVER_FILES for Dawn's Vulkan backend; returns what it did."""
    notes = {}
    paths = [p for p in env.get("LD_LIBRARY_PATH", "").split(":") if p]
    have = system_libs()
    fallback = sorted(glob.glob(os.path.join(BUNDLE, "lib", "*.so*")))
    missing = [f for f in fallback if os.path.basename(f) not in have]
    if missing:
        libdir = os.path.join(dest, "lib")
        os.makedirs(libdir, exist_ok=True)
        for f in missing:
            os.symlink(f, os.path.join(libdir, os.path.basename(f)))
        paths.insert(0, libdir)
        notes["loader_libs_from_bundle"] = [os.path.basename(f) for f in missing]
    for d in ("/usr/local/nvidia/lib64", "/usr/local/nvidia/lib"):
        if os.path.isdir(d) and d not in paths:
            paths.append(d)
    env["LD_LIBRARY_PATH"] = ":".join(paths)
    standard = [f for d in ("/etc/vulkan/icd.d", "/usr/share/vulkan/icd.d", "/usr/local/share/vulkan/icd.d") for f in sorted(glob.glob(f"{d}/*.json"))]
    nvidia = [f for f in standard if "nvidia" in os.path.basename(f)] + sorted(glob.glob("/usr/local/nvidia/**/nvidia_icd*.json", recursive=True))
    icd = force_icd or env.get("VK_DRIVER_FILES") or env.get("VK_ICD_FILENAMES") or (nvidia[0] if nvidia else None)
    if icd:
        env["VK_DRIVER_FILES"] = env["VK_ICD_FILENAMES"] = icd  # the second for loaders older than 1.3.234
    notes.update({"driver_files": icd or "loader default", "standard_driver_files": standard, "ld_library_path": env["LD_LIBRARY_PATH"]})
    return notes


def nvidia_smi():
    try:
        r = subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version,memory.total", "--format=csv,noheader"], capture_output=True, text=True, timeout=20)
        return r.stdout.strip() or tail(r.stderr, 300).strip() or None
    except (OSError, subprocess.SubprocessError) as e:
        return f"not available ({e.__class__.__name__})"


# --- the parts and the report --------------------------------------------------------------------

def default_parts(a):
    node = ["{node}", "{app}/gpu-bench-node.mjs", "--warmup", str(a.warmup), "--steps", str(a.steps)]
    b, t = a.speech.split("x")
    parts = [{"name": "vulkan_devices", "cmd": ["{python}", "{root}/scripts/device/gpu-bench.py", "--vulkan-probe"], "timeout_s": 20},
             {"name": "torch_cuda_reference", "timeout_s": 90,
              "cmd": ["{python}", "-m", "python.earshot_torch.reference_encoder", "--device", "cuda", "--size", a.reference_sizes,
                      "--warmup", str(a.warmup), "--steps", str(a.steps), "--budget-s", "20"]}]
    budgets = {"full": 90, "reduced": 60}
    for size in a.reference_sizes.split(","):
        parts.append({"name": f"ort_webgpu_reference_{size}", "timeout_s": budgets.get(size, 60),
                      "cmd": node + ["--part", "reference", "--ep", "webgpu", "--size", size]})
    for kind in ("lora", "full"):
        parts.append({"name": f"ort_webgpu_speech_{kind}", "timeout_s": 75,
                      "cmd": node + ["--part", f"speech-{kind}", "--ep", "webgpu", "--batch", b, "--frames", t]})
    if not a.no_cpu_reference:
        size = a.reference_sizes.split(",")[0]
        parts.append({"name": f"ort_cpu_reference_{size}", "timeout_s": 50, "cmd": node + ["--part", "reference", "--ep", "cpu", "--size", size]})
    for p in parts:
        if p["cmd"][0] == "{node}":
            # a node part stops timing at 60% of its timeout, so it ends on its own with what it has
            p["cmd"] += ["--budget-s", str(round(0.6 * p["timeout_s"]))]
    return parts


def fill_in(arg, fill):
    for k, v in fill.items():
        arg = arg.replace("{" + k + "}", v)
    return arg


def median_of(part, *path):
    r = part.get("result") if part else None
    for k in path:
        r = r.get(k) if isinstance(r, dict) else None
    return r


def ratio(x, y):
    return round(x / y, 3) if isinstance(x, (int, float)) and isinstance(y, (int, float)) and y > 0 else None


def assemble(parts, vulkan, started, extra):
    """The one JSON object: parts as they ran, the medians side by side, and their ratios."""
    summary, ratios = {}, {}
    torch_part = parts.get("torch_cuda_reference")
    sizes = sorted({n.rsplit("_", 1)[1] for n in parts if n.startswith(("ort_webgpu_reference_", "ort_cpu_reference_"))}
                   | set((median_of(torch_part, "sizes") or {}).keys()))
    for size in sizes:
        webgpu = median_of(parts.get(f"ort_webgpu_reference_{size}"), "median_ms_per_step")
        cpu = median_of(parts.get(f"ort_cpu_reference_{size}"), "median_ms_per_step")
        cuda = median_of(torch_part, "sizes", size, "median_ms_per_step")
        summary[f"reference_{size}_ms_per_step"] = {"ort_webgpu": webgpu, "torch_cuda": cuda, "ort_cpu": cpu}
        ratios[f"reference_{size}_ort_webgpu_over_torch_cuda"] = ratio(webgpu, cuda)
        ratios[f"reference_{size}_ort_webgpu_over_ort_cpu"] = ratio(webgpu, cpu)
    for kind in ("lora", "full"):
        p = parts.get(f"ort_webgpu_speech_{kind}")
        if p:
            summary[f"speech_{kind}"] = {k: median_of(p, k) for k in ("median_ms_per_step", "x_real_time", "nodes", "batch", "frames")}
    ratios["speech_full_over_lora"] = ratio(median_of(parts.get("ort_webgpu_speech_full"), "median_ms_per_step"),
                                            median_of(parts.get("ort_webgpu_speech_lora"), "median_ms_per_step"))
    if torch_part and median_of(torch_part, "skipped"):
        ratios["note"] = f"no PyTorch CUDA figures: {median_of(torch_part, 'skipped')}"
    devices = median_of(parts.get("vulkan_devices"), "devices") or []
    software = bool(devices) and all(d.get("type") == "cpu" for d in devices)
    out = {"what": "Earshot training steps on onnxruntime-node WebGPU (Dawn on Vulkan) beside PyTorch on CUDA; ms per step, medians after warm-up",
           "software_vulkan": software}
    if software:
        out["software_vulkan_note"] = "the only Vulkan device is a CPU (software driver such as Mesa lavapipe): these WebGPU figures are not a GPU measurement"
    out.update({"summary": summary, "ratios": ratios, "vulkan": {**vulkan, "devices": devices}, **extra,
                "wall_s": round(time.monotonic() - started, 1), "parts": parts})
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reference-sizes", default="full,reduced")
    ap.add_argument("--speech", default="7x512", help="BATCHxFRAMES of the speech model's step")
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--deadline-s", type=float, default=450, help="all parts together (unpacking is extra, ~10 s)")
    ap.add_argument("--only", help="comma-separated part names to run")
    ap.add_argument("--no-cpu-reference", action="store_true")
    ap.add_argument("--vk-icd", help="the Vulkan driver file to use (e.g. Mesa lavapipe's lvp_icd.json)")
    ap.add_argument("--python", default=sys.executable, help="the Python with PyTorch (default: this one)")
    ap.add_argument("--parts-file", help="a JSON list of parts replacing the built-in table")
    ap.add_argument("--out", default=os.path.join(os.environ["OUT"], "gpu-bench.json") if os.environ.get("OUT") else None)
    ap.add_argument("--vulkan-probe", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.vulkan_probe:
        print(json.dumps(vulkan_devices()))
        return 0

    started = time.monotonic()
    deadline = started + a.deadline_s
    table = json.load(open(a.parts_file)) if a.parts_file else default_parts(a)
    if a.only:
        keep = a.only.split(",")
        table = [p for p in table if p["name"] in keep]
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    tmp = tempfile.mkdtemp(prefix="earshot-gpu-bench-")
    fill = {"python": a.python, "root": ROOT, "node": "", "app": ""}
    extra, vulkan, parts = {}, {}, {}
    try:
        if any("{node}" in " ".join(p["cmd"]) or p["name"] == "vulkan_devices" for p in table):
            vulkan = vulkan_env(env, tmp, a.vk_icd)
        if any("{node}" in " ".join(p["cmd"]) for p in table):
            t0 = time.monotonic()
            try:
                fill["node"], fill["app"] = unpack(BUNDLE, tmp)
                manifest = os.path.join(BUNDLE, "MANIFEST.json")
                extra["bundle"] = {**(json.load(open(manifest)) if os.path.exists(manifest) else {}), "unpack_s": round(time.monotonic() - t0, 1)}
            except Exception as e:  # the node parts then fail one by one, with this reason
                extra["bundle"] = {"error": f"{e.__class__.__name__}: {e}"}
        extra["machine"] = {"cpus": os.cpu_count(), "nvidia_smi": nvidia_smi(), "python": sys.version.split()[0]}
        for p in table:
            left = deadline - time.monotonic()
            if left < 5:
                parts[p["name"]] = {"status": "not_run", "reason": f"the {a.deadline_s:.0f} s deadline was reached"}
                continue
            if "{node}" in " ".join(p["cmd"]) and not fill["node"]:
                parts[p["name"]] = {"status": "not_run", "reason": f"no Node bundle: {extra.get('bundle', {}).get('error')}"}
                continue
            cmd = [fill_in(c, fill) for c in p["cmd"]]
            print(f"[gpu-bench] {p['name']} (timeout {min(p['timeout_s'], left):.0f} s)", file=sys.stderr, flush=True)
            parts[p["name"]] = run_part(cmd, min(p["timeout_s"], left), env, ROOT)
            print(f"[gpu-bench] {p['name']}: {parts[p['name']]['status']} in {parts[p['name']]['seconds']} s", file=sys.stderr, flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    report = assemble(parts, vulkan, started, extra)
    text = json.dumps(report)
    if a.out:
        os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
        with open(a.out, "w") as f:
            f.write(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
