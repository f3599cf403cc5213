/**
 * The one service binary: reads the config and the environment, becomes the role they name, serves until SIGTERM.
 */
import { closeBackends, createBackends } from './backends/create';
import { readEnv, variableDocs } from './config/env';
import { loadConfig, pickRole, resolveRole } from './config/settings';
import { startRole } from './role';
import { exitOnCrash, exitOnSignals, startOrExit } from './serving/shutdown';
import { createLogger } from './telemetry/log';

// Everything is configured by the environment (a pod's way); an argument is only ever a request for this text.
if (process.argv.slice(2).some((a) => a === '--help' || a === '-h')) {
  const rows = variableDocs().map(({ names, doc }) => `  ${names.join(', ')}\n      ${doc.replace(/`/g, '')}`);
  console.log(`usage: ROLE=<a..h> [VARIABLE=value ...] greeting-mesh\n\nOne role of config/services.json (embedded, or CONFIG_PATH), configured by the environment:\n${rows.join('\n')}`);
  process.exit(0);
}
const unknown = process.argv.slice(2);
if (unknown.length > 0) {
  console.error(`greeting-mesh: takes no arguments (got ${JSON.stringify(unknown[0]!.slice(0, 64))}): the environment configures it; --help lists the variables`);
  process.exit(64);
}

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
  // The drain delay runs first, serving all along; SHUTDOWN_TIMEOUT_MS is what in-flight requests and the backends get after it.
  settings.drainDelayMs + settings.shutdownTimeoutMs,
  log,
);
