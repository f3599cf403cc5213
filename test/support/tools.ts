/**
 * The programs tests run that do not come from npm (FerretDB, RabbitMQ, cluster tools, ...): where the installers in
 * scripts/ci/ put them, which version is pinned, and how a binary found on the machine is checked before it is trusted. A
 * binary of another version, or one that cannot even report its version, is passed over with the reason, never used.
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

export type FoundTool = { ok: true; path: string } | { ok: false; reason: string };

/** The first candidate that exists and prints the pinned version; otherwise why each one was passed over. */
export function findTool(name: string, candidates: (string | undefined)[], check: ToolCheck): FoundTool {
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
