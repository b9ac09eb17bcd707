import { defineConfig } from 'vite';

// Builds the published package: the main entry and the storage worker as ES modules.
// The client creates its worker with `new Worker(new URL(..., import.meta.url))`, which
// Vite turns into a separate worker chunk that a consumer's bundler can find again.
export default defineConfig({
  // Relative asset URLs: the worker chunk is found next to the module that loads it.
  base: './',
  worker: { format: 'es' },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: true,
    target: 'es2022',
    lib: {
      entry: { index: 'src/index.ts', 'storage.worker': 'workers/storage.worker.ts', 'search.worker': 'workers/search.worker.ts' },
      formats: ['es'],
    },
    rollupOptions: { external: ['idb', 'comlink', 'msgpackr', 'fflate'] },
  },
});
