/**
 * A real Compose implementation for checking compose files without an engine: Docker Compose v2 (github.com/docker/compose/v2,
 * built by scripts/ci/install-observability.sh), whose `config` loads a file with the same loader `docker compose up` uses
 * (compose-go: the Compose spec's JSON schema, interpolation, then the project's consistency checks) and needs no daemon.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compareVersions, requireTool, toolsBin, type FoundTool } from './tools';

export const COMPOSE_MIN_VERSION = '2.40.0';

export function composeBinary(): FoundTool {
  return requireTool({
    command: 'docker-compose',
    envVar: 'COMPOSE_BIN',
    candidates: [join(toolsBin(), 'docker-compose'), join(process.env.HOME ?? '/root', '.docker', 'cli-plugins', 'docker-compose')],
    versionArgs: ['version'],
    parseVersion: (out) => /Docker Compose version v?(\d+\.\d+\.\d+)/.exec(out)?.[1],
    want: `v${COMPOSE_MIN_VERSION} or newer`,
    accepts: (version) => compareVersions(version, COMPOSE_MIN_VERSION) >= 0,
    elsewhere: "Docker Desktop's plugin (~/.docker/cli-plugins/docker-compose) or a release binary from github.com/docker/compose/releases",
  });
}

export interface ComposeRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * `docker-compose -f <file> config <args>` with only `env` for interpolation: no .env file, a private HOME and Docker config,
 * so neither a developer's own deploy/compose/.env, their contexts nor their shell's variables can make a broken file pass.
 */
export function composeConfig(file: string, env: Record<string, string>, args: string[] = []): ComposeRun {
  const home = mkdtempSync(join(tmpdir(), 'greeting-mesh-compose-'));
  try {
    const run = spawnSync(composeBinary().path, ['--env-file', '/dev/null', '-f', file, 'config', ...args], {
      encoding: 'utf8',
      timeout: 60_000,
      env: { PATH: '/usr/bin:/bin', HOME: home, DOCKER_CONFIG: join(home, '.docker'), ...env },
    });
    return { status: run.status, stdout: run.stdout, stderr: run.stderr };
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}
