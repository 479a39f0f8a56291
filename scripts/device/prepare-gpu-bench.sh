#!/usr/bin/env bash
# Prepares what the GPU measurement carries (scripts/device/gpu-bench.py runs it there): .gpu-bench/,
# ignored by git here (.git/info/exclude) and named in the device run's `carry`. The device machine
# has PyTorch but no Node, so this brings Node and what our TypeScript needs, xz-compressed to fit
# the 64 MiB upload beside the working tree:
#   .gpu-bench/node.xz                    this machine's Node (x86-64 Linux, ~24 MiB compressed)
#   .gpu-bench/app/gpu-bench-node.mjs     scripts/device/gpu-bench-node.ts and the src/ it imports, bundled by esbuild
#   .gpu-bench/app/node_modules/          onnxruntime-node (its linux-x64 binding; libonnxruntime.so.1.xz,
#                                         ~13 MiB, holds the WebGPU EP) and onnxruntime-common
#   .gpu-bench/lib/                       Debian's Vulkan loader and GL dispatch libraries (libvulkan1,
#                                         libglvnd0, …), used there only where the machine lacks them
#   .gpu-bench/MANIFEST.json              versions and the commit it was built from
# Takes about two minutes (xz on 2 cores). Then, with the device tool:
#   run  python3 scripts/device/gpu-bench.py  with carry [".gpu-bench"], timeout_s 540
set -euo pipefail
cd "$(dirname "$0")/../.."
B=.gpu-bench
EXCLUDE=$(git rev-parse --git-path info/exclude)
grep -qx '/.gpu-bench/' "$EXCLUDE" 2>/dev/null || echo '/.gpu-bench/' >> "$EXCLUDE"
[ "$(uname -m)" = x86_64 ] || { echo "the device machine is x86-64: prepare the bundle on an x86-64 machine" >&2; exit 1; }
rm -rf "$B"
mkdir -p "$B/app/node_modules/onnxruntime-node/bin/napi-v6/linux/x64" "$B/app/node_modules/onnxruntime-common/dist" "$B/lib"

node_modules/.bin/esbuild scripts/device/gpu-bench-node.ts --bundle --platform=node --format=esm --target=node20 \
  --external:onnxruntime-node --outfile="$B/app/gpu-bench-node.mjs" --log-level=warning

ORT=node_modules/onnxruntime-node
cp -r "$ORT/package.json" "$ORT/dist" "$B/app/node_modules/onnxruntime-node/"
cp "$ORT/bin/napi-v6/linux/x64/onnxruntime_binding.node" "$B/app/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/"
cp -r node_modules/onnxruntime-common/package.json "$B/app/node_modules/onnxruntime-common/"
cp -r node_modules/onnxruntime-common/dist/cjs "$B/app/node_modules/onnxruntime-common/dist/"
xz -T0 -9 -c "$ORT/bin/napi-v6/linux/x64/libonnxruntime.so.1" > "$B/app/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1.xz" &
xz -T0 -9 -c "$(readlink -f "$(command -v node)")" > "$B/node.xz" &

# the Vulkan loader and GL dispatch libraries, by soname (the device README's list)
DEBS=$(mktemp -d)
if (cd "$DEBS" && apt-get download -q libvulkan1 libglvnd0 libglx0 libegl1 libgl1 libopengl0 libgles2 >/dev/null 2>&1); then
  for d in "$DEBS"/*.deb; do dpkg -x "$d" "$DEBS/root"; done
  LIBS="$DEBS/root/usr/lib/x86_64-linux-gnu"
else
  echo "apt-get download failed: copying the installed libraries instead" >&2
  LIBS=/usr/lib/x86_64-linux-gnu
fi
for so in libvulkan.so.1 libGLdispatch.so.0 libGLX.so.0 libEGL.so.1 libGL.so.1 libOpenGL.so.0 libGLESv2.so.2; do
  if [ -e "$LIBS/$so" ]; then cp -L "$LIBS/$so" "$B/lib/$so"; else echo "missing $so (skipped)" >&2; fi
done
rm -rf "$DEBS"
wait

node -e '
const [b, commit, dirty] = process.argv.slice(1);
const v = (p) => JSON.parse(require("fs").readFileSync(p, "utf8")).version;
require("fs").writeFileSync(b + "/MANIFEST.json", JSON.stringify({
  node: process.version, onnxruntime_node: v(b + "/app/node_modules/onnxruntime-node/package.json"),
  commit, working_tree_dirty: dirty === "1", built: new Date().toISOString(),
}, null, 1) + "\n");
' "$B" "$(git rev-parse HEAD)" "$(git diff --quiet HEAD -- scripts src e2e python && echo 0 || echo 1)"

# what travels: the working tree (tracked and untracked-not-ignored files) and the bundle
TREE=$(git ls-files -co --exclude-standard -z | xargs -0 stat -c %s 2>/dev/null | awk '{s+=$1} END {print s}')
BUNDLE=$(du -sb "$B" | cut -f1)
awk -v t="$TREE" -v b="$BUNDLE" 'BEGIN {
  printf "working tree %.1f MiB + .gpu-bench %.1f MiB = %.1f MiB of the 64 MiB upload\n", t / 2^20, b / 2^20, (t + b) / 2^20
  if (t + b > 64 * 2^20) { print "over the limit: the device tool will refuse it" > "/dev/stderr"; exit 1 }
}'
