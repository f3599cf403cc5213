/**
 * The programs tests run that do not come from npm (FerretDB, RabbitMQ, Jaeger, Prometheus, Docker Compose, cluster tools):
 * where the installers in scripts/ci/ put them, which version is pinned, and how a binary found on the machine is checked
 * before it is trusted. A binary of another version, or one that cannot even report its version, is passed over with the
 * reason, never used; a missing or wrong tool fails the tests that need it (never a skip), saying how to get it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export const REPO_ROOT = join(import.meta.dir, '..', '..');

/** Same rule as scripts/ci/lib.sh: outside the clone, so every clone and CI run on a machine shares one cache. */
export function toolsBin(): string {
  const base = process.env.GREETING_MESH_TOOLS ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'greeting-mesh');
  return join(base, 'bin');
}

let versions: Record<string, string> | undefined;

/** A version pinned in scripts/ci/versions.env, e.g. pinnedVersion('FERRETDB_VERSION') === 'v1.24.2'. */
export function pinnedVersion(name: string): string {
  versions ??= Object.fromEntries(
    readFileSync(join(REPO_ROOT, 'scripts', 'ci', 'versions.env'), 'utf8')
      .split('\n')
      .map((line) => /^([A-Z0-9_]+)=(\S+)/.exec(line.trim()))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => [m[1]!, m[2]!]),
  );
  const version = versions[name];
  if (!version) throw new Error(`scripts/ci/versions.env pins no ${name}`);
  return version;
}

export function pathCandidates(command: string): string[] {
  return (process.env.PATH ?? '').split(':').filter(Boolean).map((dir) => join(dir, command));
}

export interface ToolCheck {
  /** Arguments that make the binary print its version. */
  versionArgs: string[];
  /** The version it must print (a substring of its output). */
  version: string;
}

export type LocatedTool = { ok: true; path: string } | { ok: false; reason: string };

/** The first candidate that exists and prints the pinned version; otherwise why each one was passed over. */
export function findTool(name: string, candidates: (string | undefined)[], check: ToolCheck): LocatedTool {
  const rejected: string[] = [];
  for (const path of new Set(candidates.filter((c): c is string => Boolean(c)))) {
    if (!existsSync(path)) continue;
    const out = spawnSync(path, check.versionArgs, { encoding: 'utf8', timeout: 10_000 });
    const text = `${out.stdout ?? ''}${out.stderr ?? ''}`;
    if (out.status === 0 && text.includes(check.version)) return { ok: true, path };
    const said = text.trim().split('\n')[0]?.slice(0, 120) || `exit ${out.status ?? out.signal}`;
    rejected.push(`${path} is not ${name} ${check.version} (${said})`);
  }
  return { ok: false, reason: rejected.length > 0 ? rejected.join('; ') : `${name} not found` };
}

/** Runs one of the installers in scripts/ci/ (idempotent); resolves with what it printed when it fails. */
export function runInstaller(script: string): { ok: boolean; output: string } {
  const out = spawnSync('bash', [join(REPO_ROOT, 'scripts', 'ci', script)], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 30 * 60_000 });
  return { ok: out.status === 0, output: `${out.stdout ?? ''}${out.stderr ?? ''}`.trim().split('\n').slice(-5).join('\n') };
}

export const OBSERVABILITY_INSTALL = 'run `bash scripts/ci/install-observability.sh` (as root on Debian)';

export interface ToolSpec {
  /** The command's name, for messages and the PATH search. */
  command: string;
  /** An environment variable that names the binary, checked first. */
  envVar: string;
  /** Where else to look before PATH (the installer's target). */
  candidates: string[];
  versionArgs: string[];
  /** The version out of the command's version output, or undefined when the output says none. */
  parseVersion: (output: string) => string | undefined;
  /** What the tests were written against, as shown in messages: 'v2.13.0', '2.42 or newer'. */
  want: string;
  accepts: (version: string) => boolean;
  /** How to get the tool on a machine that cannot run the installer. */
  elsewhere: string;
  /** The installer to name in the hint (default: install-observability.sh). */
  install?: string;
}

export interface FoundTool {
  path: string;
  version: string;
}

export class ToolError extends Error {}

/** The tool at its first location, version-checked; throws a ToolError saying what was found and how to get the right one. */
export function requireTool(spec: ToolSpec): FoundTool {
  const pathDirs = (process.env.PATH ?? '').split(':').filter(Boolean);
  const fromEnv = process.env[spec.envVar];
  const locations = fromEnv ? [fromEnv] : [...spec.candidates, ...pathDirs.map((dir) => join(dir, spec.command))];
  const path = locations.find((candidate) => existsSync(candidate));
  const fix = `To get it: ${spec.install ?? OBSERVABILITY_INSTALL}; elsewhere: ${spec.elsewhere}; or point ${spec.envVar} at one.`;
  if (!path) {
    const looked = fromEnv ? `${spec.envVar}=${fromEnv} does not exist` : `looked at ${[...spec.candidates, 'PATH'].join(', ')}`;
    throw new ToolError(`${spec.command} ${spec.want} not found (${looked}). ${fix}`);
  }
  const run = spawnSync(path, spec.versionArgs, { encoding: 'utf8', timeout: 10_000 });
  const version = run.status === 0 ? spec.parseVersion(`${run.stdout}${run.stderr}`) : undefined;
  if (!version) {
    const why = run.error?.message ?? `exit ${run.status}: ${`${run.stdout}${run.stderr}`.trim().slice(0, 200)}`;
    throw new ToolError(`${path} does not report a version with \`${spec.versionArgs.join(' ')}\` (${why}); want ${spec.want}. ${fix}`);
  }
  if (!spec.accepts(version)) throw new ToolError(`${path} is ${spec.command} ${version}; the tests need ${spec.want}. ${fix}`);
  return { path, version };
}

/** Compares dotted version numbers ('2.42.0' vs '2.42'): negative, zero or positive. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** Why `find` cannot give a tool (its ToolError's message), or undefined when it can: what a suite's requirement says. */
export function missingTool(find: () => unknown): string | undefined {
  try {
    find();
    return undefined;
  } catch (err) {
    if (err instanceof ToolError) return err.message;
    throw err;
  }
}
