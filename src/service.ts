/**
 * The one service binary: reads the config and the environment, becomes the role they name, serves until SIGTERM.
 */
import { closeBackends, createBackends } from './backends/create';
import { readEnv } from './config/env';
import { loadConfig, pickRole, resolveRole } from './config/settings';
import { ConfigError } from './config/validate';
import { startRole } from './role';
import { exitOnSignals } from './shutdown';
import { createLogger } from './telemetry/log';

function resolve() {
  const env = readEnv();
  const { config, file } = loadConfig(env.configPath);
  const settings = resolveRole(config, pickRole(config, env, file), env);
  return { config, settings };
}

async function main(): Promise<void> {
  let resolved: ReturnType<typeof resolve>;
  try {
    resolved = resolve();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.message}\n`);
    process.exit(78); // EX_CONFIG: the configuration, not the program, is at fault.
  }
  const { config, settings } = resolved;
  const log = createLogger(settings.id, settings.logLevel);
  const backends = createBackends(settings, log);
  const role = await startRole(settings, config, backends, { log, traceUiUrl: settings.traceUiUrl });
  exitOnSignals(
    async () => {
      await role.stop();
      await closeBackends(backends);
    },
    settings.shutdownTimeoutMs,
    log,
  );
}

await main();
