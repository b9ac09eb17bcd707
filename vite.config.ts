import { defineConfig } from 'vite';

// Serves the demo (/demo/) and the benchmark pages (/bench/) from the project root.
export default defineConfig({
  server: { port: 5173, strictPort: false },
  preview: { port: 4173 },
  optimizeDeps: { include: ['idb', 'comlink', 'msgpackr', 'fflate', 'sql.js', 'hash-wasm', 'minisearch', 'flexsearch'] },
  worker: { format: 'es' },
  build: {
    outDir: 'dist-demo',
    rollupOptions: { input: { demo: 'demo/index.html', kv: 'bench/kv.html', collections: 'bench/collections.html', snapshot: 'bench/snapshot.html', search: 'bench/search.html' } },
  },
});
