/**
 * `npm start`: the whole platform on this machine. With no MONGO_CONN/RABBITMQ_CONN every role runs in this process on
 * embedded backends; with them, one process per role on the real servers. Ctrl-C stops everything cleanly. A platform that
 * cannot start (a port taken, a missing binary, a role that exits while starting) says so in one line and exits at once,
 * leaving no role behind.
 */
import { accessSync, constants } from 'node:fs';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { readEnv, VARIABLES } from './config/env';
import { edgeRole } from './config/facts';
import { MEMORY_QUEUE_LIMIT } from './backends/memory-queue';
import { loadConfig } from './config/settings';
import { exitOnCrash, exitOnSignals, exitOnStartFailure, startOrExit } from './serving/shutdown';
import { StartupConfigError } from './serving/start-errors';
import { createLogger } from './telemetry/log';
import { startInProcess } from './platform/in-process';
import { ProcessPlatform } from './platform/processes';

const WHO = 'npm start';

const { values: flags } = usageOrExit(() =>
  parseArgs({
    options: {
      processes: { type: 'boolean', default: false },
      binary: { type: 'string' },
      // Every hop over this transport: `--transport grpc` is the gRPC variant of the whole chain.
      transport: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  }),
);

const USAGE = `usage: npm start [-- [--processes] [--binary FILE] [--transport http|grpc]]
  (no flags)          every role of config/services.json in one process, on an embedded store and queue
  --processes         one process per role (the default once MONGO_CONN or RABBITMQ_CONN is set)
  --binary FILE       each role runs FILE (npm run build:binary makes dist/greeting-mesh) instead of the sources
  --transport grpc    every hop between roles over gRPC (http, the default, is REST)
The environment variables: README.md, "Configuration from the environment", or dist/greeting-mesh --help.`;
if (flags.help) {
  console.log(USAGE);
  process.exit(0);
}

/** A flag this command does not take is a usage error (64, EX_USAGE), in one line. */
function usageOrExit<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    process.stderr.write(`${WHO}: ${(err as Error).message.split('\n')[0]}; npm start -- --help lists the flags\n`);
    process.exit(64);
  }
}

/** The argv that runs one role: the binary named by --binary (which must exist and be executable), or Bun on the sources. */
function roleCommand(): string[] {
  if (!flags.binary) return [process.execPath, fileURLToPath(new URL('./service.ts', import.meta.url))];
  try {
    accessSync(flags.binary, constants.X_OK);
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : 'is not executable';
    throw new StartupConfigError(`--binary ${flags.binary} ${why}: build it with \`npm run build:binary\`, or leave out --binary to run the sources`);
  }
  return [flags.binary];
}

async function isReady(url: string): Promise<boolean> {
  return fetch(`${url}/api/ready`, { signal: AbortSignal.timeout(2000) }).then(
    (r) => r.ok,
    () => false,
  );
}

async function main(): Promise<void> {
  const { env: fromEnv, config } = await startOrExit(WHO, () => {
    // The flag is TRANSPORT's command-line spelling: read, and checked, as the environment variable is.
    const env = readEnv(flags.transport ? { ...process.env, TRANSPORT: flags.transport } : process.env);
    return { env, config: loadConfig(env.configPath).config };
  });
  const log = createLogger('platform', fromEnv.logLevel);
  exitOnCrash(log);
  // Nothing routes around a local role while it drains, so Ctrl-C stops at once unless DRAIN_DELAY_MS asks otherwise.
  const env = { ...fromEnv, drainDelayMs: fromEnv.drainDelayMs ?? 0 };
  // Each role drains first (DRAIN_DELAY_MS, serving all along), then has SHUTDOWN_TIMEOUT_MS for what is in flight.
  const stopBudgetMs = env.drainDelayMs + (env.shutdownTimeoutMs ?? config.defaults.shutdownTimeoutMs);
  const edge = edgeRole(config);
  const realServers = Boolean(env.mongoUrl || env.rabbitmqUrl);

  if (!realServers && !flags.processes) {
    // startInProcess closes the roles it started when a later one fails, so a failed start leaves nothing listening.
    const platform = await startOrExit(WHO, () => startInProcess(config, { env, versions: true }));
    log.info('platform up: all roles in one process on embedded backends', {
      edge: `${platform.url(edge)}/api/greeting`,
      roles: Object.fromEntries([...platform.roles].map(([id, r]) => [id, r.port])),
      ...(platform.versions.length > 0 && {
        versions: Object.fromEntries(platform.versions.map((v) => [`${v.id}-${v.version}`, v.role.port])),
        callers: 'call the default versions; choosing between versions is the mesh\'s job',
      }),
    });
    exitOnSignals(() => platform.stop(), stopBudgetMs, log);
    return;
  }

  const platform = new ProcessPlatform(config, {
    command: await startOrExit(WHO, roleCommand),
    configPorts: true,
    env: { DRAIN_DELAY_MS: String(env.drainDelayMs) },
    stdio: 'inherit',
    ownProcessGroups: true,
    transport: env.transport,
    versions: true,
    onUnexpectedExit: (id, how) => log.error('role exited unexpectedly', { role: id, exit: how }),
  });
  // Roles in their own process groups outlive a platform that dies without stopping them; take them along.
  process.on('exit', () => {
    for (const role of [...platform.roles.values(), ...platform.versions.values()]) if (role.child.exitCode === null) role.child.kill('SIGKILL');
  });
  // Signals are handled from before the first role starts: a Ctrl-C during start-up stops the roles already running.
  exitOnSignals(
    async () => {
      const exits = await platform.stop();
      const failed = [...exits].filter(([, how]) => how !== 0);
      if (failed.length > 0) throw new Error(`roles did not exit cleanly: ${failed.map(([id, how]) => `${id}=${how}`).join(', ')}`);
    },
    stopBudgetMs,
    log,
  );
  try {
    // Live, not ready: a database or broker that is down at start-up leaves its roles serving and not ready, and they connect
    // when it comes back. Only a role that exits is a failed start.
    await platform.start(60_000, 'live');
  } catch (err) {
    await platform.stop();
    exitOnStartFailure(WHO, err);
  }
  // An in-memory queue lives in its publisher's process, so without a broker nothing consumes what a publisher queues: say so
  // once, up front, rather than let the first 502 after MEMORY_QUEUE_LIMIT greetings be the user's first hint.
  const publishers = Object.keys(config.services).filter((id) => config.services[id]!.publish);
  if (!env.rabbitmqUrl && publishers.length > 0) {
    log.warn('the queue leg does not join in separate processes without RabbitMQ', {
      publishers,
      limit: `${env.memoryQueueLimit ?? MEMORY_QUEUE_LIMIT} (${VARIABLES.memoryQueueLimit.name})`,
      effect: 'each publisher holds its greetings in its own memory; past the limit it answers 503 and its callers a partial 502',
      fix: `give ${VARIABLES.rabbitmqUrl.name}, or run npm start without --processes (one process, one queue)`,
    });
  }
  const notReady = (await Promise.all([...platform.roles.keys()].map(async (id) => ((await isReady(platform.url(id))) ? [] : [id])))).flat();
  log.info('platform up: one process per role', {
    edge: `${platform.url(edge)}/api/greeting`,
    ...(platform.versions.size > 0 && { versions: Object.fromEntries([...platform.versions].map(([key, v]) => [key, v.port])) }),
    backends: realServers ? 'real' : 'embedded, per process',
    ...(notReady.length > 0 && { notReadyYet: notReady, why: 'waiting for their database or broker; see /api/ready of each' }),
  });
}

await main();
