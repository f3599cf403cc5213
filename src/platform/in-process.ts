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
import { edgeTransport, servesGrpc } from '../config/facts';
import { resolveRole } from '../config/settings';
import { startRole, type RunningRole } from '../role';
import { PortInUseError, StartupConfigError } from '../serving/start-errors';
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

/**
 * Each calling role's share of this process's fetch cap, so that together they never exceed it: a role whose calls wait in
 * fetch's one queue behind another role's could never answer it (call-limit.ts). Refused when the shares cannot fit.
 */
export function callBudget(config: PlatformConfig, env: EnvSettings): number {
  const callers = Object.values(config.services).filter((r) => r.upstreams.length > 0).length;
  if (callers === 0) return env.fetchMaxInFlight;
  const share = env.upstreamMaxInFlight ?? Math.floor(env.fetchMaxInFlight / callers);
  if (share < 1 || share * callers > env.fetchMaxInFlight)
    throw new StartupConfigError(
      `${callers} roles call upstreams in this one process and share its fetch cap of ${env.fetchMaxInFlight} requests in flight ` +
        `(BUN_CONFIG_MAX_HTTP_REQUESTS)${env.upstreamMaxInFlight ? `, which UPSTREAM_MAX_IN_FLIGHT=${env.upstreamMaxInFlight} each exceeds` : ', less than one each'}: ` +
        `raise BUN_CONFIG_MAX_HTTP_REQUESTS to at least ${callers * (env.upstreamMaxInFlight ?? 1)}, or run one process per role (--processes)`,
    );
  return share;
}

export async function startInProcess(config: PlatformConfig, { ephemeralPorts, env }: InProcessOptions): Promise<InProcessPlatform> {
  const store = new MemoryStore();
  const queue = new MemoryQueue();
  const roles = new Map<string, RunningRole>();
  const url = (id: string) => `http://127.0.0.1:${roles.get(id)!.port}`;
  // The caller's URL of an upstream that is already listening: its HTTP port, or its gRPC one for an edge over gRPC.
  const urlFrom = (caller: string, up: string) =>
    edgeTransport(config, caller, up, env.transport) === 'grpc' ? `grpc://127.0.0.1:${roles.get(up)!.grpcPort}` : url(up);
  const upstreamMaxInFlight = callBudget(config, env);
  try {
    // Upstreams first, so every role's upstream URLs point at ports that are already listening.
    for (const id of upstreamsFirst(config)) {
      const upstreamUrls = Object.fromEntries(config.services[id]!.upstreams.map((up) => [up, urlFrom(id, up)]));
      const grpcPort = ephemeralPorts && servesGrpc(config, id, env.transport) ? 0 : undefined;
      const roleEnv: EnvSettings = { ...env, role: id, port: ephemeralPorts ? 0 : undefined, grpcPort, serviceName: undefined, greeting: undefined, upstreamUrls, upstreamMaxInFlight };
      const settings = resolveRole(config, id, roleEnv);
      const log = createLogger(id, settings.logLevel);
      const backends = createBackends(settings, log, { store, queue });
      const role = await startRole(settings, config, backends, { log, hostname: '127.0.0.1' }).catch((err: unknown) => {
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
      // In the order a rolling update would take them down: callers before what they call, so the requests still in flight
      // at the edge are answered by upstreams that are still there (all at once, they got 502s).
      for (const id of upstreamsFirst(config).reverse()) await roles.get(id)!.stopServing();
      // Flushing all at once: in sequence, eight flushes to an unreachable collector would add up past the shutdown deadline.
      await Promise.all([...roles.values()].map((r) => r.close()));
      await closeBackends({ store, queue });
    },
  };
}
