/**
 * Finds an external program the tests run (Jaeger, Prometheus, promtool, Docker Compose) and checks its version before any test
 * uses it: a stale or half-built binary must fail here with the fix, not later with a puzzling error. A missing or wrong tool
 * always fails (it is never a skip): the tests these tools serve have no stand-in that proves the same thing.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** Where scripts/ci/lib.sh caches the tools it builds (TOOLS_BIN), outside the clone so every clone shares them. */
export function toolsBin(): string {
  const dir = process.env.GREETING_MESH_TOOLS || join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'greeting-mesh');
  return join(dir, 'bin');
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
  const fix = `To get it: ${OBSERVABILITY_INSTALL}; elsewhere: ${spec.elsewhere}; or point ${spec.envVar} at one.`;
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
