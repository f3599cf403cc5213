import { defineConfig } from 'tsup';

// The Node-runnable bundle: the same service for platforms that run Node rather than Bun (and a check that nothing
// Bun-only crept in). Dependencies stay external and come from node_modules.
export default defineConfig({
  entry: { service: 'src/node-entry.ts' },
  outDir: 'dist/node',
  format: ['esm'],
  target: 'node20',
  platform: 'node',
  sourcemap: true,
  clean: true,
  splitting: false,
});
