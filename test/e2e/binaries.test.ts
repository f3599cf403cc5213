/**
 * The two Linux binaries `npm run build:binaries` makes, for the image's two platforms: each is an ELF executable for its own
 * architecture (read from the header, as `file` does), the host's runs as a role, and the arm64 one runs too, under QEMU's
 * user-mode emulator on an amd64 machine: it serves a greeting and exits 0 on SIGTERM, so what ships for arm64 nodes is a
 * working service, not only a file of the right type.
 */
import { expect, test } from 'bun:test';
import { existsSync, openSync, readSync, closeSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { scratchDir } from '../../bench/compile';
import { freePort } from '../../src/platform/processes';
import { linuxBinary } from '../../scripts/artifacts';
import { describeRequiring } from '../support/requirements';

const MACHINE = { x64: 62, arm64: 183 } as const; // e_machine: EM_X86_64, EM_AARCH64
const ARM64_SYSROOT = '/usr/aarch64-linux-gnu';

/** What an ELF header says: class (64-bit), byte order, type and machine; undefined when the file is not ELF at all. */
function elfHeader(path: string): { bits: number; endian: string; type: number; machine: number } | undefined {
  const header = Buffer.alloc(20);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, header, 0, 20, 0);
  } finally {
    closeSync(fd);
  }
  if (header.subarray(0, 4).toString('latin1') !== '\x7fELF') return undefined;
  const little = header[5] === 1;
  return {
    bits: header[4] === 2 ? 64 : 32,
    endian: little ? 'little' : 'big',
    type: little ? header.readUInt16LE(16) : header.readUInt16BE(16),
    machine: little ? header.readUInt16LE(18) : header.readUInt16BE(18),
  };
}

/** Runs a binary as role h: its health and a greeting over HTTP, then SIGTERM; resolves with what it answered and its exit code. */
async function runAsRole(command: string[], cwd?: string): Promise<{ health: number; service?: string; exit: number | null }> {
  const port = await freePort();
  const proc = Bun.spawn(command, { cwd, env: { ...process.env, ROLE: 'h', PORT: String(port), DRAIN_DELAY_MS: '0', LOG_LEVEL: 'warn' }, stdout: 'ignore', stderr: 'pipe' });
  try {
    let health = 0;
    for (const deadline = Date.now() + 30_000; health !== 200 && Date.now() < deadline && proc.exitCode === null; ) {
      health = await fetch(`http://127.0.0.1:${port}/api/health`).then((r) => r.status, () => 0);
      if (health !== 200) await Bun.sleep(100);
    }
    const greeting = health === 200 ? ((await (await fetch(`http://127.0.0.1:${port}/api/greeting`)).json()) as { service: string }[]) : [];
    proc.kill('SIGTERM');
    return { health, service: greeting[0]?.service, exit: await proc.exited };
  } finally {
    if (proc.exitCode === null) proc.kill('SIGKILL');
  }
}

test('each binary is a 64-bit little-endian ELF executable for its own architecture: x86-64 and AArch64', () => {
  for (const arch of ['x64', 'arm64'] as const) {
    const header = elfHeader(linuxBinary(arch));
    // e_type 2 is an executable (3 would be a shared object); Bun's are position-dependent executables.
    expect({ arch, ...header }).toEqual({ arch, bits: 64, endian: 'little', type: 2, machine: MACHINE[arch] });
  }
});

test('the header check tells the architectures apart, and refuses what is not ELF', () => {
  expect(elfHeader(linuxBinary('x64'))!.machine).not.toBe(MACHINE.arm64);
  expect(elfHeader(import.meta.path)).toBeUndefined();
});

const host = process.arch === 'arm64' ? 'arm64' : 'x64';
test(`the host's binary (${host}) serves as a role and exits 0 on SIGTERM`, async () => {
  expect(await runAsRole([linuxBinary(host)])).toEqual({ health: 200, service: 'Service H', exit: 0 });
}, 60_000);

test("the host's binary reads no .env, bunfig.toml, tsconfig.json or package.json from the directory it runs in", async () => {
  const dir = scratchDir();
  try {
    // Each would break the start if read: a config that does not exist, a preload that exits, files that do not parse.
    writeFileSync(join(dir.path, '.env'), 'CONFIG_PATH=./no-such-config.json\n');
    writeFileSync(join(dir.path, 'boom.ts'), 'process.exit(3);\n');
    writeFileSync(join(dir.path, 'bunfig.toml'), 'preload = ["./boom.ts"]\n');
    writeFileSync(join(dir.path, 'tsconfig.json'), '{ not json');
    writeFileSync(join(dir.path, 'package.json'), '{ not json');
    // The fixture works: Bun itself, run there, takes the preload (and so the rest).
    expect(spawnSync(process.execPath, ['-e', 'console.log("ran")'], { cwd: dir.path, encoding: 'utf8' }).status).toBe(3);
    expect(await runAsRole([linuxBinary(host)], dir.path)).toEqual({ health: 200, service: 'Service H', exit: 0 });
  } finally {
    dir.dispose();
  }
}, 60_000);

const emulator = process.arch === 'arm64' ? [] : ['qemu-aarch64', '-L', ARM64_SYSROOT];
const missingEmulator =
  process.arch === 'arm64' || (Bun.which('qemu-aarch64') && existsSync(`${ARM64_SYSROOT}/lib/ld-linux-aarch64.so.1`))
    ? undefined
    : 'qemu-aarch64 or the arm64 glibc is missing: run `bash scripts/ci/install-cross-arch.sh` (as root on Debian: apt-get install qemu-user libc6-arm64-cross)';

describeRequiring('the arm64 binary, run under emulation on this machine', missingEmulator, ({ test }) => {
  test('serves a greeting as a role and exits 0 on SIGTERM', async () => {
    expect(await runAsRole([...emulator, linuxBinary('arm64')])).toEqual({ health: 200, service: 'Service H', exit: 0 });
  }, 120_000);
});
