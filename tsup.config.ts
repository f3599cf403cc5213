import { readFile } from 'node:fs/promises';
import { defineConfig } from 'tsup';

// The Node-runnable bundle: the same service for platforms that run Node rather than Bun (and a check that nothing
// Bun-only crept in). Dependencies stay external and come from node_modules.
export default defineConfig({
  entry: { service: 'src/service.node.ts' },
  outDir: 'dist/node',
  format: ['esm'],
  target: 'node20',
  platform: 'node',
  sourcemap: true,
  clean: true,
  splitting: false,
  esbuildPlugins: [
    {
      // Bun reads `with { type: 'text' }` natively; esbuild has no text import attribute, so the web UI's page is loaded as text here.
      name: 'html-as-text',
      setup(build) {
        build.onLoad({ filter: /\.html$/ }, async (args) => ({ contents: await readFile(args.path, 'utf8'), loader: 'text' }));
      },
    },
  ],
});
