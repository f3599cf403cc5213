/**
 * The one service binary: reads the config and the environment, becomes the role they name, serves until SIGTERM.
 */
import { closeBackends, createBackends } from './backends/create';
import { readEnv } from './config/env';
import { loadConfig, pickRole, resolveRole } from './config/settings';
import { startRole } from './role';
import { exitOnCrash, exitOnSignals, startOrExit } from './serving/shutdown';
import { createLogger } from './telemetry/log';

const { config, settings } = await startOrExit('greeting-mesh', () => {
  const env = readEnv();
  const { config, file } = loadConfig(env.configPath);
  return { config, settings: resolveRole(config, pickRole(config, env, file), env) };
});
const log = createLogger(settings.id, settings.logLevel);
exitOnCrash(log);
const who = `service-${settings.id}`;
const backends = await startOrExit(who, () => createBackends(settings, log));
const role = await startOrExit(who, () => startRole(settings, config, backends, { log }));
exitOnSignals(
  async () => {
    await role.stop();
    await closeBackends(backends);
  },
  settings.shutdownTimeoutMs,
  log,
);
