/**
 * A start that cannot work ends at once with one line that names what and why, and leaves nothing running: `npm start` with a
 * missing binary, a port that is taken (in one process and per process), a role that exits while starting; the service binary
 * on a taken port. No stack trace (the compiled binary's is kilobytes of minified source), no orphaned role.
 */
import { afterAll, describe, expect, test } from 'bun:test';
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { variableDocs } from '../../src/config/env';
import { freePort } from '../../src/platform/processes';
import { configWithFreePorts } from '../support/free-ports';
import { ROOT, serviceBinary } from '../../scripts/artifacts';

const dir = mkdtempSync(join(tmpdir(), 'gm-start-failures-'));
const servers: Server[] = [];
afterAll(() => {
  for (const s of servers) s.close();
});

function occupy(port: number): Promise<void> {
  return new Promise((resolve) => {
    const server = createServer().listen(port, '127.0.0.1', () => resolve());
    servers.push(server);
  });
}

interface Run {
  code: number | null;
  stderr: string;
  stdout: string;
  ms: number;
}

function run(argv: string[], env: Record<string, string>): Promise<Run> {
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), { cwd: ROOT, env: { ...process.env, LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c));
    child.stderr.on('data', (c: Buffer) => (stderr += c));
    // 'close', not 'exit': the child's last lines may still be in its pipes when it has exited.
    child.once('close', (code) => resolve({ code, stdout, stderr, ms: performance.now() - started }));
  });
}

const npmStart = (args: string[], env: Record<string, string>) => run([process.execPath, 'src/platform.ts', ...args], env);

/** True when nothing listens on any of the ports (no role left behind). */
async function allClosed(ports: number[]): Promise<boolean> {
  const answers = await Promise.all(ports.map((p) => fetch(`http://127.0.0.1:${p}/api/health`).then(() => true, () => false)));
  return answers.every((a) => !a);
}

function expectOneLine(stderr: string, ...fragments: string[]): void {
  const lines = stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  for (const f of fragments) expect(lines[0]).toContain(f);
  expect(stderr).not.toMatch(/^\s+at /m);
}

describe('npm start that cannot start', () => {
  test('a --binary that does not exist: exit 78 at once, naming the file and how to build it', async () => {
    const { path } = await configWithFreePorts();
    const r = await npmStart(['--processes', '--binary', 'dist/no-such-binary'], { CONFIG_PATH: path });
    expect(r.code).toBe(78);
    expectOneLine(r.stderr, 'dist/no-such-binary', 'does not exist', 'npm run build:binary');
    expect(r.ms).toBeLessThan(5_000);
  });

  test('a taken port, all roles in one process: exit 78 naming the role and port, and every role it started is closed', async () => {
    const { path, ports } = await configWithFreePorts();
    await occupy(ports.e!);
    const r = await npmStart([], { CONFIG_PATH: path });
    expect(r.code).toBe(78);
    expectOneLine(r.stderr, `port ${ports.e}`, 'role e (Service E)', 'already in use');
    const others = Object.entries(ports).filter(([id]) => id !== 'e').map(([, p]) => p);
    expect(await allClosed(others)).toBe(true);
  });

  test('a taken port, one process per role: exit 78 before any role starts', async () => {
    const { path, ports } = await configWithFreePorts();
    await occupy(ports.c!);
    const r = await npmStart(['--processes', '--binary', serviceBinary()], { CONFIG_PATH: path });
    expect(r.code).toBe(78);
    expectOneLine(r.stderr, `port ${ports.c}`, 'role c (Service C)', 'already in use');
    const others = Object.entries(ports).filter(([id]) => id !== 'c').map(([, p]) => p);
    expect(await allClosed(others)).toBe(true);
  });

  test('a role that exits while starting: the platform says which, stops the others and exits non-zero', async () => {
    const { path, ports } = await configWithFreePorts();
    const wrapper = join(dir, 'refuse-g.sh');
    writeFileSync(wrapper, `#!/bin/sh\n[ "$ROLE" = g ] && { echo "g cannot start" >&2; exit 3; }\nexec "${serviceBinary()}"\n`);
    chmodSync(wrapper, 0o755);
    const r = await npmStart(['--processes', '--binary', wrapper], { CONFIG_PATH: path });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('g cannot start');
    const platformLine = r.stderr.trim().split('\n').filter((l) => l.startsWith('npm start:'));
    expect(platformLine).toEqual([expect.stringContaining('role g exited while starting (exit 3)')]);
    expect(await allClosed(Object.values(ports))).toBe(true);
  }, 30_000);
});

test('the service binary told to run a version its role does not declare: exit 78 naming SERVICE_VERSION and the versions there are', async () => {
  const r = await run([serviceBinary()], { ROLE: 'h', SERVICE_VERSION: 'v3', PORT: String(await freePort()) });
  expect(r.code).toBe(78);
  expectOneLine(r.stderr, 'SERVICE_VERSION', "'v3' is not a version of role 'h'", 'v1, v2');
});

test('the service binary on a taken port: exit 78 with one line naming the port', async () => {
  const port = await freePort();
  await occupy(port);
  const r = await run([serviceBinary()], { ROLE: 'b', PORT: String(port) });
  expect(r.code).toBe(78);
  expectOneLine(r.stderr, 'service-b', `port ${port}`, 'already in use');
});

test('the service binary with a bad OTEL_* value: exit 78 with one line naming the variable, never the token it holds', async () => {
  const r = await run([serviceBinary()], {
    ROLE: 'h',
    PORT: String(await freePort()),
    OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318',
    // The token typed without its key: the entry is the secret itself.
    OTEL_EXPORTER_OTLP_HEADERS: 'x-tenant=a,Bearer s3cr3t-t0ken',
  });
  expect(r.code).toBe(78);
  expectOneLine(r.stderr, 'OTEL_EXPORTER_OTLP_HEADERS', 'entry 2');
  expect(`${r.stdout}${r.stderr}`).not.toContain('s3cr3t');
});

test('the service binary with --help lists every variable it reads and exits 0; with any other argument, one line and exit 64', async () => {
  const help = await run([serviceBinary(), '--help'], {});
  expect(help.code).toBe(0);
  for (const { names } of variableDocs()) for (const name of names) expect(help.stdout).toContain(name);
  const other = await run([serviceBinary(), '--port', '9000'], { ROLE: 'h' });
  expect(other.code).toBe(64);
  expectOneLine(other.stderr, 'takes no arguments', '"--port"', '--help');
});

test('npm start --help names every flag and exits 0; an unknown flag is one line and exit 64', async () => {
  const help = await npmStart(['--help'], {});
  expect(help.code).toBe(0);
  for (const flag of ['--processes', '--binary', '--transport']) expect(help.stdout).toContain(flag);
  const other = await npmStart(['--proceses'], {});
  expect(other.code).toBe(64);
  expectOneLine(other.stderr, "'--proceses'", '--help');
});
