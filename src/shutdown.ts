/**
 * Turns SIGTERM, SIGINT and SIGHUP into one orderly stop. A second signal, or a stop that overruns its deadline, forces the exit:
 * the kubelet sends SIGKILL after terminationGracePeriodSeconds anyway, and exiting first leaves a clear log line behind.
 */
import { ConfigError } from './config/validate';
import type { Logger } from './telemetry/log';

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

/** Runs `resolve`; a ConfigError stops the process with its list of problems and exit code 78 (EX_CONFIG). */
export function orExitOnConfigError<T>(resolve: () => T): T {
  try {
    return resolve();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.message}\n`);
    process.exit(78);
  }
}
