import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin } from 'vite';

const webRoot = fileURLToPath(new URL('.', import.meta.url));
const repoRoot = fileURLToPath(new URL('..', import.meta.url));
// The API the dev server forwards to; `npm run dev` (or ./dt start) serves it on 8080 by default.
const apiTarget = 'http://127.0.0.1:8080';

/** One closing line with the whole bundle's size, so growth shows up in every build log. */
function reportBundleSize(): Plugin {
  return {
    name: 'doc-transcribe:report-bundle-size',
    apply: 'build',
    generateBundle(_options, bundle) {
      let bytes = 0;
      for (const item of Object.values(bundle)) {
        bytes += item.type === 'chunk' ? Buffer.byteLength(item.code) : Buffer.byteLength(item.source);
      }
      this.info(`bundle size: ${(bytes / 1024).toFixed(1)} KiB in ${Object.keys(bundle).length} files`);
    },
  };
}

export default defineConfig({
  root: webRoot,
  base: '/',
  plugins: [react(), reportBundleSize()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    reportCompressedSize: true,
    target: 'es2022',
  },
  server: {
    // The page imports the shared contract from ../src/contract.
    fs: { allow: [repoRoot] },
    proxy: {
      '/v1': { target: apiTarget, changeOrigin: false },
      '/readyz': apiTarget,
      '/healthz': apiTarget,
    },
  },
});
