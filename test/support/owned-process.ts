/**
 * A server process a test owns: started in its own process group with its output in a log file, in a throwaway directory
 * that goes with it. Bun fires no exit hooks at the end of `bun test`, so a detached watchdog shell kills the group and removes
 * the directory once the test process is gone without having stopped it, however it ends; stop() does the same at once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface OwnedProcess {
  /** The throwaway directory: config files and data go here. */
  readonly dir: string;
  readonly child?: ChildProcess;
  /** Launches the command (once); its stdout and stderr go to `<dir>/<name>.log`. */
  launch(command: string, args: string[]): ChildProcess;
  hasExited(): boolean;
  /** The last lines of the log, for failure messages. */
  logTail(lines?: number): string;
  /** SIGTERM to the group, SIGKILL after `graceMs`, then removes the directory. */
  stop(graceMs?: number): Promise<void>;
}

export function ownedProcess(name: string): OwnedProcess {
  const dir = mkdtempSync(join(tmpdir(), `greeting-mesh-${name}-`));
  const logFile = join(dir, `${name}.log`);
  let child: ChildProcess | undefined;
  let exited = false;

  const signal = (sig: NodeJS.Signals) => {
    if (!child?.pid || exited) return;
    try {
      process.kill(-child.pid, sig);
    } catch {
      // Already gone.
    }
  };

  return {
    dir,
    get child() {
      return child;
    },
    launch(command, args) {
      if (child) throw new Error(`${name} was already launched`);
      const fd = openSync(logFile, 'a');
      child = spawn(command, args, { cwd: dir, detached: true, stdio: ['ignore', fd, fd] });
      closeSync(fd);
      child.once('exit', () => (exited = true));
      child.unref();
      // bash, not sh: dash's kill cannot signal a process group. stop() removes the directory once the group is gone, which
      // ends the watchdog without a signal: a group id is never signalled after it may have been reused.
      const script = [
        `while kill -0 ${process.pid} 2>/dev/null && [ -d "$1" ]; do sleep 1; done`,
        `[ -d "$1" ] || exit 0`,
        `kill -KILL -- -${child.pid} 2>/dev/null`,
        'sleep 1',
        'rm -rf "$1"',
      ].join('\n');
      spawn('bash', ['-c', script, 'watchdog', dir], { detached: true, stdio: 'ignore' }).unref();
      return child;
    },
    hasExited: () => exited,
    logTail(lines = 15) {
      return existsSync(logFile) ? readFileSync(logFile, 'utf8').trim().split('\n').slice(-lines).join('\n') : '(no log)';
    },
    async stop(graceMs = 5_000) {
      signal('SIGTERM');
      for (const deadline = Date.now() + graceMs; child && !exited && Date.now() < deadline; ) await Bun.sleep(50);
      signal('SIGKILL');
      for (const deadline = Date.now() + 2_000; child && !exited && Date.now() < deadline; ) await Bun.sleep(50);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
