import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// Cross-origin isolation lets onnxruntime-web use multi-threaded WASM (SharedArrayBuffer).
const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

// Only the app's own origin: no third-party requests of any kind. 'wasm-unsafe-eval' lets
// onnxruntime and the audio decoders compile WebAssembly; blob: URLs are the app's own (audio
// playback, downloads, and the workers onnxruntime spawns for its threads).
const csp = (dev: boolean) =>
  [
    "default-src 'self'",
    // Vite's dev server injects an inline module (React refresh); the production build has none.
    `script-src 'self' 'wasm-unsafe-eval'${dev ? " 'unsafe-inline'" : ''}`,
    "worker-src 'self' blob:",
    "connect-src 'self'",
    "img-src 'self' data: blob:",
    "media-src 'self' blob:",
    "style-src 'self' 'unsafe-inline'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');

export default defineConfig({
  plugins: [react()],
  // onnxruntime-web loads its own .wasm/.mjs next to the bundle; pre-bundling breaks those paths.
  optimizeDeps: { exclude: ['onnxruntime-web'] },
  server: { headers: { ...isolation, 'Content-Security-Policy': csp(true) } },
  preview: { headers: { ...isolation, 'Content-Security-Policy': csp(false) } },
  worker: { format: 'es' },
  build: { target: 'es2022', chunkSizeWarningLimit: 4096 },
});
