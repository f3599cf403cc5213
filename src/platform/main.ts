/**
 * `npm start`: the whole platform on this machine. With no MONGO_CONN/RABBITMQ_CONN every role runs in this process on
 * embedded backends; with them, one process per role on the real servers. Ctrl-C stops everything cleanly.
 */
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { readEnv } from '../config/env';
import { loadConfig } from '../config/settings';
import { exitOnSignals, orExitOnConfigError } from '../shutdown';
import { createLogger } from '../telemetry/log';
import { startInProcess } from './in-process';
import { ProcessPlatform } from './processes';

const { values: flags } = parseArgs({
  options: {
    processes: { type: 'boolean', default: false },
    binary: { type: 'string' },
  },
});

async function main(): Promise<void> {
  const { env: fromEnv, config } = orExitOnConfigError(() => {
    const env = readEnv();
    return { env, config: loadConfig(env.configPath).config };
  });
  const log = createLogger('platform', fromEnv.logLevel);
  // Nothing routes around a local role while it drains, so Ctrl-C stops at once unless DRAIN_DELAY_MS asks otherwise.
  const env = { ...fromEnv, drainDelayMs: fromEnv.drainDelayMs ?? 0 };
  const shutdownTimeoutMs = env.shutdownTimeoutMs ?? config.defaults.shutdownTimeoutMs;
  const edge = Object.keys(config.services).find((id) => config.services[id]!.edge) ?? Object.keys(config.services)[0]!;
  const realServers = Boolean(env.mongoUrl || env.rabbitmqUrl);

  if (!realServers && !flags.processes) {
    const platform = await startInProcess(config, { env });
    log.info('platform up: all roles in one process on embedded backends', {
      edge: `${platform.url(edge)}/api/greeting`,
      roles: Object.fromEntries([...platform.roles].map(([id, r]) => [id, r.port])),
    });
    exitOnSignals(() => platform.stop(), shutdownTimeoutMs, log);
    return;
  }

  const service = fileURLToPath(new URL('../service.ts', import.meta.url));
  const platform = new ProcessPlatform(config, {
    command: flags.binary ? [flags.binary] : [process.execPath, service],
    configPorts: true,
    env: { DRAIN_DELAY_MS: String(env.drainDelayMs) },
    stdio: 'inherit',
    ownProcessGroups: true,
    onUnexpectedExit: (id, how) => log.error('role exited unexpectedly', { role: id, exit: how }),
  });
  // Roles in their own process groups outlive a platform that dies without stopping them; take them along.
  process.on('exit', () => {
    for (const role of platform.roles.values()) if (role.child.exitCode === null) role.child.kill('SIGKILL');
  });
  // Signals are handled from before the first role starts: a Ctrl-C during start-up stops the roles already running.
  exitOnSignals(
    async () => {
      const exits = await platform.stop();
      const failed = [...exits].filter(([, how]) => how !== 0);
      if (failed.length > 0) throw new Error(`roles did not exit cleanly: ${failed.map(([id, how]) => `${id}=${how}`).join(', ')}`);
    },
    shutdownTimeoutMs,
    log,
  );
  await platform.start(60_000);
  log.info('platform up: one process per role', { edge: `${platform.url(edge)}/api/greeting`, backends: realServers ? 'real' : 'embedded, per process' });
}

await main();
