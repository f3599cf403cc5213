/**
 * The default local platform: every role in this one process, each on its own port, sharing one in-memory store and one
 * in-memory queue. That is the only honest way for the embedded queue to carry D's greetings to F: an in-memory queue cannot
 * join two processes. With real servers the platform runs one process per role instead (processes.ts).
 *
 * With `versions`, every extra version of a role runs beside its default, on its own port, so a person can call each one.
 * Callers call the default version only: choosing between versions is the mesh's routing, which is not imitated here.
 */
import { closeBackends, createBackends } from '../backends/create';
import { MemoryQueue } from '../backends/memory-queue';
import { MemoryStore } from '../backends/memory-store';
import type { EnvSettings } from '../config/env';
import type { PlatformConfig } from '../config/schema';
import { edgeTransport, roleVersions, servesGrpc } from '../config/facts';
import { resolveRole } from '../config/settings';
import { startRole, type RunningRole } from '../role';
import { CallLimiter } from '../transport/call-limit';
import { PortInUseError, StartupConfigError } from '../serving/start-errors';
import { createLogger } from '../telemetry/log';
import { upstreamsFirst } from './topology-order';

/** An extra version of a role, running beside the default one (which is in `roles`). */
export interface RunningVersion {
  id: string;
  version: string;
  role: RunningRole;
}

export interface InProcessPlatform {
  roles: Map<string, RunningRole>;
  /** The extra versions, when started with `versions`. */
  versions: RunningVersion[];
  store: MemoryStore;
  queue: MemoryQueue;
  url(id: string): string;
  /** Where one version of a role answers: the default version's is url(id). */
  versionUrl(id: string, version: string): string;
  stop(): Promise<void>;
}

export interface InProcessOptions {
  /** Let the OS pick every port (tests, benchmarks); otherwise each role takes its config port. */
  ephemeralPorts?: boolean;
  /** Settings from the environment that apply to every role (log level, tracing, timeouts). */
  env: EnvSettings;
  /** Also run every extra version of each role, each on its own port (`npm start` does). */
  versions?: boolean;
}

/**
 * Each calling role's share of this process's fetch cap, so that together they never exceed it: a role whose calls wait in
 * fetch's one queue behind another role's could never answer it (call-limit.ts). Refused when the shares cannot fit. The
 * versions of a role share its share (startInProcess).
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

export async function startInProcess(config: PlatformConfig, { ephemeralPorts, env, versions: withVersions }: InProcessOptions): Promise<InProcessPlatform> {
  const store = new MemoryStore();
  const queue = new MemoryQueue();
  const roles = new Map<string, RunningRole>();
  const versions: RunningVersion[] = [];
  const url = (id: string) => `http://127.0.0.1:${roles.get(id)!.port}`;
  const versionUrl = (id: string, version: string) => {
    const extra = versions.find((v) => v.id === id && v.version === version);
    return extra ? `http://127.0.0.1:${extra.role.port}` : url(id);
  };
  // The caller's URL of an upstream that is already listening: its HTTP port, or its gRPC one for an edge over gRPC.
  const urlFrom = (caller: string, up: string) =>
    edgeTransport(config, caller, up, env.transport) === 'grpc' ? `grpc://127.0.0.1:${roles.get(up)!.grpcPort}` : url(up);
  const upstreamMaxInFlight = callBudget(config, env);
  // One per role: its versions call the same upstreams, so sharing cannot make a call wait on a budget its answer needs.
  const limiters = new Map<string, CallLimiter>();
  const start = async (id: string, version?: string) => {
    const upstreamUrls = Object.fromEntries(config.services[id]!.upstreams.map((up) => [up, urlFrom(id, up)]));
    const grpcPort = ephemeralPorts && servesGrpc(config, id, env.transport) ? 0 : undefined;
    const roleEnv: EnvSettings = {
      ...env,
      role: id,
      version: version ?? env.version,
      port: ephemeralPorts ? 0 : undefined,
      grpcPort,
      serviceName: undefined,
      greeting: undefined,
      upstreamUrls,
      upstreamMaxInFlight,
    };
    const settings = resolveRole(config, id, roleEnv);
    const who = `role ${id}${version ? ` version ${version}` : ''}`;
    const log = createLogger(version ? `${id}-${version}` : id, settings.logLevel);
    const backends = createBackends(settings, log, { store, queue });
    if (!limiters.has(id)) limiters.set(id, new CallLimiter(settings.upstreamMaxInFlight));
    return startRole(settings, config, backends, { log, hostname: '127.0.0.1', callLimiter: limiters.get(id) }).catch((err: unknown) => {
      if (!(err instanceof PortInUseError)) throw err;
      throw new StartupConfigError(`${err.message}, wanted by ${who} (${settings.name}): is another \`npm start\` running? Stop it first`);
    });
  };
  const all = () => [...roles.values(), ...versions.map((v) => v.role)];
  try {
    // Upstreams first, so every role's upstream URLs point at ports that are already listening.
    for (const id of upstreamsFirst(config)) roles.set(id, await start(id));
    if (withVersions)
      for (const id of upstreamsFirst(config))
        for (const version of roleVersions(config, id).slice(1)) versions.push({ id, version, role: await start(id, version) });
  } catch (err) {
    await Promise.allSettled(all().map((r) => r.close()));
    throw err;
  }
  return {
    roles,
    versions,
    store,
    queue,
    url,
    versionUrl,
    async stop() {
      await Promise.all(all().map((r) => r.drain()));
      // Nothing calls an extra version, so they go first; then the defaults in the order a rolling update would take them
      // down: callers before what they call, so the requests still in flight at the edge are answered by upstreams that are
      // still there (all at once, they got 502s).
      for (const v of versions) await v.role.stopServing();
      for (const id of upstreamsFirst(config).reverse()) await roles.get(id)!.stopServing();
      // Flushing all at once: in sequence, eight flushes to an unreachable collector would add up past the shutdown deadline.
      await Promise.all(all().map((r) => r.close()));
      await closeBackends({ store, queue });
    },
  };
}
