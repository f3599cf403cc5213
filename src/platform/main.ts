/**
 * `npm start`: the whole platform on this machine. With no MONGO_CONN/RABBITMQ_CONN every role runs in this process on
 * embedded backends; with them, one process per role on the real servers. Ctrl-C stops everything cleanly.
 */
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { readEnv } from '../config/env';
import { loadConfig } from '../config/settings';
import { ConfigError } from '../config/validate';
import { exitOnSignals } from '../shutdown';
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
  let env: ReturnType<typeof readEnv>;
  let config: ReturnType<typeof loadConfig>['config'];
  try {
    env = readEnv();
    config = loadConfig(env.configPath).config;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.message}\n`);
    process.exit(78);
  }
  const log = createLogger('platform', env.logLevel);
  // Nothing routes around a local role while it drains, so Ctrl-C stops at once unless DRAIN_DELAY_MS asks otherwise.
  env = { ...env, drainDelayMs: env.drainDelayMs ?? 0 };
  const edge = Object.keys(config.services).find((id) => config.services[id]!.edge) ?? Object.keys(config.services)[0]!;
  const realServers = Boolean(env.mongoUrl || env.rabbitmqUrl);

  if (!realServers && !flags.processes) {
    const platform = await startInProcess(config, { env });
    log.info('platform up: all roles in one process on embedded backends', {
      edge: `${platform.url(edge)}/api/greeting`,
      roles: Object.fromEntries([...platform.roles].map(([id, r]) => [id, r.port])),
    });
    exitOnSignals(() => platform.stop(), env.shutdownTimeoutMs ?? 20_000, log);
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
  await platform.start(60_000);
  log.info('platform up: one process per role', { edge: `${platform.url(edge)}/api/greeting`, backends: realServers ? 'real' : 'embedded, per process' });
  exitOnSignals(
    async () => {
      const exits = await platform.stop();
      const failed = [...exits].filter(([, how]) => how !== 0);
      if (failed.length > 0) throw new Error(`roles did not exit cleanly: ${failed.map(([id, how]) => `${id}=${how}`).join(', ')}`);
    },
    env.shutdownTimeoutMs ?? 20_000,
    log,
  );
}

await main();
