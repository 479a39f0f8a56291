// Starts Vite's dev server on a free local port for the browser tests.
import { createServer, type ViteDevServer } from 'vite';

export async function startDevServer(): Promise<{ server: ViteDevServer; url: string }> {
  // No file watching and no HMR: an edit to the source while a journey runs (another checkout's
  // build, an editor) must not reload the page under test.
  const server = await createServer({ configFile: 'vite.config.ts', server: { port: 0, host: '127.0.0.1', hmr: false, watch: null }, logLevel: 'warn' });
  await server.listen();
  const addr = server.httpServer!.address();
  if (!addr || typeof addr === 'string') throw new Error('dev server has no port');
  return { server, url: `http://127.0.0.1:${addr.port}` };
}
