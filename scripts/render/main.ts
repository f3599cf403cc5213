/**
 * The render command, the successor of the original platform's Jinja template: reads config/services.json and writes every
 * per-role Kubernetes and Istio object under deploy/, the Compose stack in deploy/compose/, and the README's table of
 * environment variables (from src/config/env.ts). With `--check` it writes
 * nothing and exits 1 when the committed output is stale, which is how CI proves the manifests match the config.
 *
 *   bun scripts/render/main.ts [--check] [--config <file>] [--out <repository root>]
 */
import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';
import { loadConfig } from '../../src/config/settings';
import { ConfigError } from '../../src/config/config-error';
import { renderFiles, staleFiles, writeFiles } from './files';
import { README, renderedReadme } from './readme';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

interface Options {
  check: boolean;
  config: string;
  out: string;
}

function parseArgs(argv: string[]): Options {
  const options: Options = { check: false, config: resolve(ROOT, 'config/services.json'), out: ROOT };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${arg} needs a value`);
      return v;
    };
    if (arg === '--check') options.check = true;
    else if (arg === '--config') options.config = resolve(value());
    else if (arg === '--out') options.out = resolve(value());
    else throw new UsageError(`unknown argument '${arg}'`);
  }
  return options;
}

class UsageError extends Error {}

function main(argv: string[]): number {
  let options: Options;
  try {
    options = parseArgs(argv);
  } catch (err) {
    console.error(`render: ${(err as Error).message}\nusage: bun scripts/render/main.ts [--check] [--config <file>] [--out <dir>]`);
    return 2;
  }
  let files;
  try {
    files = renderFiles(loadConfig(options.config).config);
    const readme = renderedReadme(options.out);
    if (readme !== undefined) files.set(README, readme);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`render: ${err.message}`);
      return 2;
    }
    throw err;
  }
  if (options.check) {
    const stale = staleFiles(options.out, files);
    if (stale.length === 0) {
      console.log(`render: ${files.size} generated files match ${options.config}`);
      return 0;
    }
    console.error(
      `render: ${stale.length} generated file(s) do not match the config; run \`npm run render\` and commit the result:\n` +
        stale.map((p) => `  ${p}`).join('\n'),
    );
    return 1;
  }
  const changed = writeFiles(options.out, files);
  console.log(
    changed.length === 0
      ? `render: ${files.size} generated files already match the config`
      : `render: updated ${changed.length} file(s):\n${changed.map((p) => `  ${p}`).join('\n')}`,
  );
  return 0;
}

process.exitCode = main(process.argv.slice(2));
