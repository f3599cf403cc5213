/**
 * Turns SIGTERM, SIGINT and SIGHUP into one orderly stop. A second signal, or a stop that overruns its deadline, forces the exit:
 * the kubelet sends SIGKILL after terminationGracePeriodSeconds anyway, and exiting first leaves a clear log line behind.
 */
import { ConfigError } from '../config/config-error';
import type { Logger } from '../telemetry/log';
import { PortInUseError, StartupConfigError } from './start-errors';

/**
 * A bug that escapes every handler ends the process with one log line (what failed and where), not a dump of minified source;
 * a promise rejected with no handler is logged and the process serves on (the drivers reject late on connections already given up).
 */
export function exitOnCrash(log: Logger): void {
  process.on('uncaughtException', (err) => {
    log.error('uncaught exception, exiting', { error: err, at: err.stack?.split('\n').slice(1, 4).map((l) => l.trim()) });
    process.exit(1);
  });
  process.on('unhandledRejection', (reason) => log.error('unhandled promise rejection', { error: reason instanceof Error ? reason : String(reason) }));
}

export function exitOnSignals(stop: () => Promise<void>, timeoutMs: number, log: Logger): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      log.warn('second signal, exiting now', { signal });
      process.exit(1);
    }
    stopping = true;
    log.info('shutting down', { signal });
    const deadline = setTimeout(() => {
      log.error('shutdown overran its deadline, exiting', { timeoutMs });
      process.exit(1);
    }, timeoutMs);
    deadline.unref?.();
    stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error('shutdown failed', { error: err as Error });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  // A closed terminal: the platform must still stop its role processes rather than leave them holding their ports.
  process.on('SIGHUP', onSignal);
}

/** EX_CONFIG from sysexits.h: what the operator gave (config, environment, a port) cannot work. */
export const EXIT_CONFIG = 78;

function isConfigProblem(err: unknown): boolean {
  return err instanceof ConfigError || err instanceof PortInUseError || err instanceof StartupConfigError;
}

/**
 * Ends a start that cannot go on: the reason on stderr, prefixed with who says it, then exit 78 for a configuration problem
 * (bad config or environment, a port in use) or 1 for anything else. Never a stack trace: the compiled binary's is minified
 * source, kilobytes of it on one line, and it says nothing an operator can act on.
 */
export function exitOnStartFailure(who: string, err: unknown): never {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`${who}: ${isConfigProblem(err) ? '' : 'cannot start: '}${message}\n`);
  process.exit(isConfigProblem(err) ? EXIT_CONFIG : 1);
}

/** Runs a start-up step; whatever it throws ends the process through exitOnStartFailure. */
export async function startOrExit<T>(who: string, step: () => T | Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (err) {
    exitOnStartFailure(who, err);
  }
}
