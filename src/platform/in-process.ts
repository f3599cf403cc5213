/**
 * The default local platform: every role in this one process, each on its own port, sharing one in-memory store and one
 * in-memory queue. That is the only honest way for the embedded queue to carry D's greetings to F: an in-memory queue cannot
 * join two processes. With real servers the platform runs one process per role instead (processes.ts).
 */
import { closeBackends, createBackends } from '../backends/create';
import { MemoryQueue } from '../backends/memory-queue';
import { MemoryStore } from '../backends/memory-store';
import type { EnvSettings } from '../config/env';
import type { PlatformConfig } from '../config/schema';
import { resolveRole } from '../config/settings';
import { PortInUseError } from '../http/serve';
import { startRole, type RunningRole } from '../role';
import { StartupConfigError } from '../shutdown';
import { createLogger } from '../telemetry/log';
import { upstreamsFirst } from './topology-order';

export interface InProcessPlatform {
  roles: Map<string, RunningRole>;
  store: MemoryStore;
  queue: MemoryQueue;
  url(id: string): string;
  stop(): Promise<void>;
}

export interface InProcessOptions {
  /** Let the OS pick every port (tests, benchmarks); otherwise each role takes its config port. */
  ephemeralPorts?: boolean;
  /** Settings from the environment that apply to every role (log level, tracing, timeouts). */
  env: EnvSettings;
}

export async function startInProcess(config: PlatformConfig, { ephemeralPorts, env }: InProcessOptions): Promise<InProcessPlatform> {
  const store = new MemoryStore();
  const queue = new MemoryQueue();
  const roles = new Map<string, RunningRole>();
  const url = (id: string) => `http://127.0.0.1:${roles.get(id)!.port}`;
  try {
    // Upstreams first, so every role's upstream URLs point at ports that are already listening.
    for (const id of upstreamsFirst(config)) {
      const upstreamUrls = Object.fromEntries(config.services[id]!.upstreams.map((up) => [up, url(up)]));
      const roleEnv: EnvSettings = { ...env, role: id, port: ephemeralPorts ? 0 : undefined, serviceName: undefined, greeting: undefined, upstreamUrls };
      const settings = resolveRole(config, id, roleEnv);
      const log = createLogger(id, settings.logLevel);
      const backends = createBackends(settings, log, { store, queue });
      const role = await startRole(settings, config, backends, { log, hostname: '127.0.0.1', traceUiUrl: settings.traceUiUrl }).catch((err: unknown) => {
        if (!(err instanceof PortInUseError)) throw err;
        throw new StartupConfigError(`${err.message}, wanted by role ${id} (${settings.name}): is another \`npm start\` running? Stop it first`);
      });
      roles.set(id, role);
    }
  } catch (err) {
    await Promise.allSettled([...roles.values()].map((r) => r.close()));
    throw err;
  }
  return {
    roles,
    store,
    queue,
    url,
    async stop() {
      await Promise.all([...roles.values()].map((r) => r.drain()));
      // All at once: each close waits for its own in-flight requests and flushes its own spans, so in sequence eight flushes
      // to an unreachable collector would add up past the shutdown deadline.
      await Promise.all([...roles.values()].map((r) => r.close()));
      await closeBackends({ store, queue });
    },
  };
}
