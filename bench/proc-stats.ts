/**
 * What the kernel knows about a process: CPU time (utime + stime from /proc/<pid>/stat) and memory (VmRSS now, VmHWM the peak
 * since exec, from /proc/<pid>/status; PSS from /proc/<pid>/smaps_rollup). Read from outside, so the measured roles run
 * unchanged and pay nothing for it.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** Linux reports CPU time in clock ticks; USER_HZ is 100 on every mainstream kernel configuration. */
const TICKS_PER_SECOND = 100;

export interface MemorySample {
  rssMb: number;
  peakRssMb: number;
  /**
   * Proportional set size: RSS with each page shared by n processes counted 1/n. Most of a role's RSS is the executable's own
   * pages, mapped from the file and shared by every role running the same binary, so the PSS of all roles adds up to what they
   * take from the machine together, where their RSS counts the executable once per role. NaN where smaps_rollup is missing.
   */
  pssMb: number;
}

/** utime + stime of a /proc stat line, in seconds. */
function statSeconds(stat: string): number {
  // The command name (field 2) is in parentheses and may contain spaces: count fields from after its closing one.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

/** User plus system CPU seconds the process has used since it started; undefined once it has exited. */
export function cpuSeconds(pid: number): number | undefined {
  try {
    return statSeconds(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

/**
 * CPU seconds per thread name. The runtimes name their threads, which says where a process's time goes without a profiler:
 * Bun's `HTTP Client` thread does fetch's socket work, `JITWorker` compiles, `HeapHelper` collects garbage, `mi-scavenger`
 * returns freed memory; the thread named like the process runs the JavaScript (called `main` here).
 */
export function threadCpuSeconds(pid: number): Record<string, number> {
  const byName: Record<string, number> = {};
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return byName;
  }
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = tid === String(pid) ? 'main' : stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      byName[name] = (byName[name] ?? 0) + statSeconds(stat);
    } catch {
      // the thread ended between listing and reading
    }
  }
  return byName;
}

export function memory(pid: number): MemorySample | undefined {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  let rollup = '';
  try {
    rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  } catch {
    // Linux before 4.14, or the process just exited: PSS stays unknown.
  }
  const kb = (text: string, name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
  return { rssMb: kb(status, 'VmRSS') / 1024, peakRssMb: kb(status, 'VmHWM') / 1024, pssMb: kb(rollup, 'Pss') / 1024 };
}

/**
 * The process listening on a local TCP port (a data-plane server the bench did not start itself), found the way `ss -p` does:
 * the socket's inode from /proc/net/tcp*, then the process holding a descriptor to it. Undefined when none is visible.
 */
export function pidListeningOn(port: number): number | undefined {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // f[1] = local address:port (hex), f[3] = state (0A = LISTEN), f[9] = inode
      if (f[3] === '0A' && parseInt(f[1]?.split(':')[1] ?? '', 16) === port && f[9]) inodes.add(f[9]);
    }
  }
  if (inodes.size === 0) return undefined;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${entry}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const target = readlinkSync(`/proc/${entry}/fd/${fd}`);
        if (target.startsWith('socket:[') && inodes.has(target.slice(8, -1))) return Number(entry);
      } catch {
        // closed meanwhile
      }
    }
  }
  return undefined;
}

/** The command name of a process, for reports. */
export function processName(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return 'unknown';
  }
}
