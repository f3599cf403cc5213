/**
 * Runs the gate inside a network namespace of its own, where the only interface is loopback: whatever etcd, the API server,
 * istioctl or Tilt might try, no packet can leave the machine (there is no route), and no port the gate opens is reachable from
 * outside it. As root `unshare --net` does it; otherwise an unprivileged user namespace maps the user to root inside.
 */
import { spawnSync } from 'node:child_process';
import { networkInterfaces } from 'node:os';

const MARKER = 'GREETING_MESH_VERIFY_ISOLATED';

export function isolated(): boolean {
  return process.env[MARKER] === '1';
}

/** Re-runs this process inside a fresh network namespace and exits with its status; returns only when already inside. */
export function reexecIsolated(): void {
  if (isolated()) return;
  const unshare = Bun.which('unshare');
  const ip = Bun.which('ip') ?? '/usr/sbin/ip';
  if (!unshare) throw new Error('unshare (util-linux) is needed to run the checks in a loopback-only network namespace');
  const asRoot = process.getuid?.() === 0;
  const probe = spawnSync(unshare, [...(asRoot ? [] : ['--map-root-user']), '--net', 'true'], { encoding: 'utf8' });
  if (probe.status !== 0)
    throw new Error(`cannot create a network namespace (${probe.stderr.trim()}): run as root, or allow unprivileged user namespaces`);
  const args = [...(asRoot ? [] : ['--map-root-user']), '--net', '--', 'sh', '-c', `"${ip}" link set lo up && exec "$@"`, 'sh', process.execPath, ...process.argv.slice(1)];
  const child = spawnSync(unshare, args, { stdio: 'inherit', env: { ...process.env, [MARKER]: '1' } });
  if (child.error) throw new Error(`cannot start a network namespace: ${child.error.message}`);
  process.exit(child.status ?? 1);
}

/** The interfaces the process sees, for the gate's first line: only `lo` inside the namespace. */
export function interfaces(): string[] {
  return Object.keys(networkInterfaces());
}
