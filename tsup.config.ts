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
    {
      // esbuild refuses Bun's macro imports (`with { type: 'macro' }`): without the attribute they are plain imports, so the
      // Node bundle calls at start what Bun ran while bundling (src/config/embedded.ts).
      name: 'bun-macros-at-start',
      setup(build) {
        build.onLoad({ filter: /[/\\]src[/\\].*\.ts$/ }, async (args) => {
          const source = await readFile(args.path, 'utf8');
          if (!source.includes("with { type: 'macro' }")) return undefined;
          return { contents: source.replaceAll(" with { type: 'macro' }", ''), loader: 'ts' };
        });
      },
    },
  ],
});
