/**
 * `npm run build:binaries`: the single executable for both Linux architectures the image ships for,
 * dist/greeting-mesh-linux-x64 and dist/greeting-mesh-linux-arm64, compiled exactly as `npm run build:binary` compiles the
 * host's (scripts/build/binary.ts), each with its own target's Bun runtime inside.
 *
 * Cross-compiling needs the other architecture's Bun runtime. Left to itself, Bun downloads it on first use into its cache
 * (and fails offline with an empty cache: "Failed to download 'bun-linux-aarch64-v1.4.5'"). Here it comes from the package
 * the committed lockfile pins (@oven/bun-linux-aarch64 or -x64, the same version as the `bun` package): fetched once with npm,
 * checked against the lockfile's sha512, and kept in the tool cache outside the clone, so later builds work offline and
 * never run an unverified runtime.
 *
 *   bun scripts/build/binaries.ts [--arch x64|arm64]...    (default: both)
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileBinary } from './binary';

const ROOT = join(import.meta.dir, '..', '..');
export const ARCHES = ['x64', 'arm64'] as const;
export type Arch = (typeof ARCHES)[number];

/** Bun's name for each architecture in its targets and runtime packages. */
const RUNTIME_PACKAGE: Record<Arch, string> = { x64: '@oven/bun-linux-x64', arm64: '@oven/bun-linux-aarch64' };

export const binaryPath = (arch: Arch) => join(ROOT, 'dist', `greeting-mesh-linux-${arch}`);

/** scripts/ci/lib.sh: TOOLS_DIR=${GREETING_MESH_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/greeting-mesh}. */
function toolsDir(env = process.env): string {
  return env.GREETING_MESH_TOOLS || join(env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache'), 'greeting-mesh');
}

function hostArch(): Arch | undefined {
  return process.platform === 'linux' && (process.arch === 'x64' || process.arch === 'arm64') ? process.arch : undefined;
}

function run(command: string, args: string[], cwd = ROOT): string {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${result.status}):\n${result.stderr || result.stdout}`);
  return result.stdout;
}

/**
 * The target's Bun runtime: from the tool cache, else the lockfile's package fetched with `npm pack` and checked against the
 * lockfile's integrity before anything of it is kept.
 */
function runtimeFor(arch: Arch): string {
  const name = RUNTIME_PACKAGE[arch];
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')).packages[`node_modules/${name}`] as { version: string; integrity: string } | undefined;
  if (!lock) throw new Error(`${name} is not in package-lock.json: it pins the runtime a cross-compile embeds`);
  const dir = join(toolsDir(), 'bun-runtimes', `${name.replace('/', '+')}@${lock.version}`);
  const bun = join(dir, 'bun');
  if (existsSync(bun)) return bun;
  const work = mkdtempSync(join(tmpdir(), 'bun-runtime-'));
  try {
    run('npm', ['pack', `${name}@${lock.version}`, '--pack-destination', work, '--silent']);
    const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'));
    if (!tarball) throw new Error(`npm pack ${name}@${lock.version} left no tarball`);
    const [algorithm, expected] = lock.integrity.split(/-(.*)/s) as [string, string];
    const actual = createHash(algorithm).update(readFileSync(join(work, tarball))).digest('base64');
    if (actual !== expected) throw new Error(`${name}@${lock.version}: ${algorithm} ${actual} is not the lockfile's ${expected}; not used`);
    run('tar', ['-xzf', join(work, tarball), '-C', work, 'package/bin/bun']);
    mkdirSync(dir, { recursive: true });
    chmodSync(join(work, 'package/bin/bun'), 0o755);
    renameSync(join(work, 'package/bin/bun'), bun);
    return bun;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

export function buildBinary(arch: Arch): Promise<string> {
  return compileBinary({ outfile: binaryPath(arch), target: `bun-linux-${arch}`, executablePath: arch === hostArch() ? undefined : runtimeFor(arch) });
}

if (import.meta.main) {
  const args = process.argv.slice(2);
  const wanted = new Set<Arch>();
  for (let i = 0; i < args.length; i++) {
    const arch = args[i] === '--arch' ? args[++i] : undefined;
    if (!arch || !(ARCHES as readonly string[]).includes(arch)) {
      console.error(`usage: bun scripts/build/binaries.ts [--arch ${ARCHES.join('|')}]...`);
      process.exit(2);
    }
    wanted.add(arch as Arch);
  }
  for (const arch of wanted.size > 0 ? wanted : ARCHES) console.log(`built ${await buildBinary(arch)}`);
}
