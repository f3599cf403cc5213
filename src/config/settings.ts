/**
 * Joins the platform config and the environment into the settings of one role: everything a running service needs,
 * resolved once at start-up.
 */
import { checkedEmbeddedConfig } from './embedded' with { type: 'macro' };
import { EMBEDDED_CONFIG_NAME } from './embedded-name';
import { VARIABLES, type EnvSettings, type LogLevel } from './env';
import { localGrpcPort, localUpstreamUrl, roleVersion, roleVersions, servesGrpc, transportOfUrl, versionFacts } from './facts';
import type { ChaosOptions, ConsumeOptions, EdgeOptions, PlatformConfig, PublishOptions, StoreTarget, Transport } from './schema';
import { ConfigError } from './config-error';
import type * as Validate from './validate';

export { EMBEDDED_CONFIG_NAME };

export interface Upstream {
  id: string;
  name: string;
  url: string;
  /** How it is called: what its URL's scheme says (`grpc://` or http). */
  transport: Transport;
}

/** The edge options as resolved (ALLOWED_ORIGINS over the config's). */
export type EdgeSettings = EdgeOptions;

/** What a role takes from the environment as read, with the types env.ts declares for them. */
type TakenFromEnv = Pick<
  EnvSettings,
  'mongoUrl' | 'rabbitmqUrl' | 'zipkinUrl' | 'otlp' | 'traceSampleRatio' | 'propagators' | 'resourceAttributes' | 'notHonoured' | 'traceUiUrl' | 'memoryQueueLimit'
>;

export interface RoleSettings extends TakenFromEnv {
  id: string;
  name: string;
  greeting: string;
  port: number;
  /** Where it serves gRPC beside HTTP, when some caller calls it over gRPC (or GRPC_PORT says so). */
  grpcPort?: number;
  version: string;
  logLevel: LogLevel;
  upstreams: Upstream[];
  upstreamTimeoutMs: number;
  drainDelayMs: number;
  shutdownTimeoutMs: number;
  store?: StoreTarget;
  publish?: PublishOptions;
  consume?: ConsumeOptions;
  edge?: EdgeSettings;
  chaos: ChaosOptions;
  upstreamMaxInFlight: number;
  upstreamMaxAnswerBytes: number;
}

/** The config named by CONFIG_PATH, or the one compiled into the binary. */
export function loadConfig(configPath?: string): { config: PlatformConfig; file: string } {
  if (!configPath) {
    const embedded = checkedEmbeddedConfig();
    if (embedded.problems) throw new ConfigError(embedded.problems);
    return { config: embedded.config, file: EMBEDDED_CONFIG_NAME };
  }
  let text: string;
  try {
    // Loaded here: imported, node:fs would load at every start (about 1 ms compiled), for a file most starts never read.
    text = process.getBuiltinModule('node:fs').readFileSync(configPath, 'utf8');
  } catch (err) {
    throw new ConfigError([{ file: configPath, path: '', reason: `cannot read: ${(err as NodeJS.ErrnoException).code ?? err}` }]);
  }
  // The validator and the schema load only for a config file: the embedded one was checked when the code was bundled.
  const { parseConfig } = require('./validate') as typeof Validate;
  return { config: parseConfig(text, configPath), file: configPath };
}

/** Finds the role by ROLE, else by SERVICE_NAME (as the original's manifests set it). */
export function pickRole(config: PlatformConfig, env: EnvSettings, file: string): string {
  const ids = Object.keys(config.services);
  if (env.role) {
    if (Object.hasOwn(config.services, env.role)) return env.role;
    throw new ConfigError([
      { file: 'environment', path: VARIABLES.role.name, reason: `unknown role '${env.role}': ${file} defines ${ids.join(', ')}` },
    ]);
  }
  const byName = ids.find((id) => config.services[id]!.name.toLowerCase() === env.serviceName?.toLowerCase());
  if (byName) return byName;
  throw new ConfigError([
    {
      file: 'environment',
      path: VARIABLES.role.name,
      reason: env.serviceName
        ? `not set, and SERVICE_NAME '${env.serviceName}' names no role in ${file}`
        : `not set: choose one of ${ids.join(', ')}`,
    },
  ]);
}

/**
 * The version this process runs: SERVICE_VERSION (a pod's `version` label), else the role's default. A role that declares
 * versions runs only one of them: an unknown name is refused rather than run as the default, because the pod would report a
 * version no route and no Deployment of the config knows. A role that declares none takes any name, as it always has.
 */
function pickVersion(config: PlatformConfig, id: string, env: EnvSettings): string {
  const version = env.version ?? roleVersion(config, id);
  const known = roleVersions(config, id);
  if (config.services[id]!.versions && !known.includes(version))
    throw new ConfigError([
      { file: 'environment', path: VARIABLES.version.name, reason: `'${version}' is not a version of role '${id}': the config declares ${known.join(', ')}` },
    ]);
  return version;
}

export function resolveRole(config: PlatformConfig, id: string, env: EnvSettings): RoleSettings {
  const role = config.services[id]!;
  const d = config.defaults;
  const queueName = env.queueName;
  const version = pickVersion(config, id, env);
  const own = versionFacts(config, id, roleVersions(config, id).includes(version) ? version : roleVersion(config, id));
  const settings: RoleSettings = {
    id,
    name: env.serviceName ?? role.name,
    greeting: env.greeting ?? own.greeting,
    port: env.port ?? own.port,
    version,
    logLevel: env.logLevel,
    grpcPort: env.grpcPort ?? (servesGrpc(config, id, env.transport) ? localGrpcPort(config, id, own.version) : undefined),
    upstreams: role.upstreams.map((up) => {
      const url = env.upstreamUrls[up] ?? localUpstreamUrl(config, id, up, env.transport);
      return { id: up, name: config.services[up]!.name, url, transport: transportOfUrl(url) };
    }),
    upstreamTimeoutMs: env.upstreamTimeoutMs ?? d.upstreamTimeoutMs,
    drainDelayMs: env.drainDelayMs ?? d.drainDelayMs,
    shutdownTimeoutMs: env.shutdownTimeoutMs ?? d.shutdownTimeoutMs,
    store: role.store,
    publish: role.publish && { queue: queueName ?? role.publish.queue },
    consume: role.consume && { ...role.consume, queue: queueName ?? role.consume.queue },
    edge: role.edge && {
      ...role.edge,
      allowedOrigins: env.allowedOrigins ?? role.edge.allowedOrigins,
      greetingShape: env.greetingShape ?? role.edge.greetingShape,
    },
    chaos: {
      latencyMs: env.chaosLatencyMs ?? own.chaos.latencyMs,
      errorRate: env.chaosErrorRate ?? own.chaos.errorRate,
    },
    mongoUrl: env.mongoUrl,
    rabbitmqUrl: env.rabbitmqUrl,
    zipkinUrl: env.zipkinUrl,
    otlp: env.otlp,
    traceSampleRatio: env.traceSampleRatio,
    propagators: env.propagators,
    resourceAttributes: env.resourceAttributes,
    notHonoured: env.notHonoured,
    traceUiUrl: env.traceUiUrl,
    memoryQueueLimit: env.memoryQueueLimit,
    upstreamMaxInFlight: env.upstreamMaxInFlight ?? env.fetchMaxInFlight,
    upstreamMaxAnswerBytes: env.upstreamMaxAnswerBytes ?? d.upstreamMaxAnswerBytes,
  };
  if (settings.edge?.allowCredentials && settings.edge.allowedOrigins.includes('*'))
    throw new ConfigError([{ file: 'environment', path: VARIABLES.allowedOrigins.name, reason: "'*' cannot be combined with allowCredentials in the config" }]);
  return settings;
}
