/**
 * `npm run build:binary`: src/service.ts compiled into one executable, dist/greeting-mesh. Every compile of the service goes
 * through compileBinary (the cross-compiled binaries, the image's build stage, the bench's comparison binaries), and the
 * start-up checks bundle with the same options, so none of them can drift from how the service is built.
 *
 * - ESM, split: what only some roles load (drivers, exporters, gRPC) stays in chunks read on first use (start-imports.ts).
 * - The `module` condition: CommonJS requires of packages that ship an ESM build resolve to it, so each package is bundled
 *   once and read without a getter per use (start-imports.ts, commonJsBuilds).
 * - Bytecode: about half of a start's time is parsing without it.
 * - The executable loads no .env, bunfig.toml, tsconfig.json or package.json from where it runs: the environment configures it.
 * - The substitutes plugin (substitutes/index.ts): what the MongoDB driver loads at import and rarely uses.
 *
 *   bun scripts/build/binary.ts [--entry FILE] [--outfile FILE] [--target bun-linux-x64|bun-linux-arm64] [--executable-path BUN]
 */
import type { BuildConfig } from 'bun';
import { join, resolve } from 'node:path';
import { substitutes } from './substitutes';

const ROOT = join(import.meta.dir, '..', '..');

/** How the binary's code is bundled, without the compile step: what start-imports.ts analyses. */
export const BUNDLE = { target: 'bun', format: 'esm', splitting: true, conditions: ['module'], plugins: [substitutes] } satisfies Partial<BuildConfig>;

export interface BinaryOptions {
  entry?: string;
  outfile?: string;
  /** Bun's compile target, e.g. bun-linux-arm64; the host's when absent. */
  target?: string;
  /** The Bun runtime to embed for a cross-compile, instead of one Bun downloads. */
  executablePath?: string;
}

export async function compileBinary(options: BinaryOptions = {}): Promise<string> {
  const entry = resolve(ROOT, options.entry ?? 'src/service.ts');
  const outfile = resolve(ROOT, options.outfile ?? 'dist/greeting-mesh');
  const built = await Bun.build({
    ...BUNDLE,
    entrypoints: [entry],
    minify: true,
    bytecode: true,
    compile: {
      outfile,
      ...(options.target ? { target: options.target as Bun.Build.CompileTarget } : {}),
      ...(options.executablePath ? { executablePath: resolve(ROOT, options.executablePath) } : {}),
      autoloadDotenv: false,
      autoloadBunfig: false,
      autoloadTsconfig: false,
      autoloadPackageJson: false,
    },
  }).catch((err: unknown) => ({ success: false as const, logs: [err] }));
  if (!built.success) throw new AggregateError(built.logs, `compiling ${entry} failed:\n${built.logs.map(String).join('\n')}`);
  return outfile;
}

const FLAGS: Record<string, keyof BinaryOptions> = { '--entry': 'entry', '--outfile': 'outfile', '--target': 'target', '--executable-path': 'executablePath' };

export function parseArgs(args: string[]): BinaryOptions {
  const options: BinaryOptions = {};
  for (let i = 0; i < args.length; i++) {
    const [flag, inline] = args[i]!.split(/=(.*)/s) as [string, string | undefined];
    const key = FLAGS[flag];
    const value = inline ?? args[++i];
    if (!key || value === undefined || value === '') {
      throw new Error(`usage: bun scripts/build/binary.ts [${Object.keys(FLAGS).map((f) => `${f} VALUE`).join('] [')}] (got ${JSON.stringify(args[i] ?? flag)})`);
    }
    options[key] = value;
  }
  return options;
}

if (import.meta.main) {
  let options: BinaryOptions;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (err) {
    console.error((err as Error).message);
    process.exit(2);
  }
  console.log(`built ${await compileBinary(options)}`);
}
