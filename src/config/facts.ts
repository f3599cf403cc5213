/**
 * Facts derived from the config, each written once: what a role is called in the cluster, how its upstreams' URLs are
 * named, which backends it needs, which role is the edge. The service (src/) and the render (scripts/render/) both ask here,
 * so the manifests and the process that runs them cannot drift apart.
 */
import type { PlatformConfig, RoleConfig, StoreTarget, Transport } from './schema';

/** `service-<id>`: the Kubernetes Service, Deployment and ServiceAccount, the `app` label and the tracing service.name. */
export function workloadName(id: string): string {
  return `service-${id}`;
}

/** `SERVICE_<X>_URL`, the original platform's name for an upstream's base URL. */
export function upstreamEnvName(id: string): string {
  return `SERVICE_${id.toUpperCase()}_URL`;
}

/** The role id an `SERVICE_<X>_URL` variable names, or undefined when the name is not one. */
export function upstreamIdOfEnv(name: string): string | undefined {
  return /^SERVICE_([A-Z0-9]+)_URL$/.exec(name)?.[1]?.toLowerCase();
}

const names = new WeakMap<StoreTarget, string>();

/** `database.collection`, how metrics, logs and errors name a store target (kept per target object: asked on every insert). */
export function collectionName(target: StoreTarget): string {
  let name = names.get(target);
  if (name === undefined) names.set(target, (name = `${target.database}.${target.collection}`));
  return name;
}

export interface BackendNeeds {
  /** Stores its greeting (C, G, H) or what it consumes (F): MONGO_CONN. */
  store: boolean;
  /** Publishes (D) or consumes (F): RABBITMQ_CONN. */
  queue: boolean;
}

export function backendNeeds(role: Pick<RoleConfig, 'store' | 'publish' | 'consume'>): BackendNeeds {
  return { store: Boolean(role.store || role.consume), queue: Boolean(role.publish || role.consume) };
}

/** The store targets a role writes to: its own greetings' and what it consumes. */
export function storeTargets(role: Pick<RoleConfig, 'store' | 'consume'>): StoreTarget[] {
  return [role.store, role.consume?.store].filter((t): t is StoreTarget => t !== undefined);
}

/** The one role that faces the browser. The validator refuses a config with none or several, so there always is one. */
export function edgeRole(config: PlatformConfig): string {
  return Object.keys(config.services).find((id) => config.services[id]!.edge !== undefined)!;
}

export function roleVersion(config: PlatformConfig, id: string): string {
  return config.services[id]!.version ?? config.defaults.version;
}

export function roleReplicas(config: PlatformConfig, id: string): number {
  return config.services[id]!.replicas ?? config.defaults.replicas;
}

/**
 * How `caller` calls `upstream`: TRANSPORT from the environment (every hop), else the edge's own setting, else the upstream's,
 * else the config's default.
 */
export function edgeTransport(config: PlatformConfig, caller: string, upstream: string, everyHop?: Transport): Transport {
  return everyHop ?? config.services[caller]!.upstreamTransport?.[upstream] ?? config.services[upstream]!.transport ?? config.defaults.transport;
}

/** A role serves gRPC (beside HTTP) when some caller calls it over gRPC; only then does it load the gRPC stack. */
export function servesGrpc(config: PlatformConfig, id: string, everyHop?: Transport): boolean {
  return Object.entries(config.services).some(([caller, role]) => role.upstreams.includes(id) && edgeTransport(config, caller, id, everyHop) === 'grpc');
}

/** The role's gRPC port in the local platform. */
export function localGrpcPort(config: PlatformConfig, id: string): number {
  return config.services[id]!.grpcPort ?? config.services[id]!.port + 10_000;
}

/** Where `caller` reaches `upstream` in the local platform: its HTTP port, or `grpc://` and its gRPC port. */
export function localUpstreamUrl(config: PlatformConfig, caller: string, upstream: string, everyHop?: Transport): string {
  return edgeTransport(config, caller, upstream, everyHop) === 'grpc'
    ? `grpc://127.0.0.1:${localGrpcPort(config, upstream)}`
    : `http://127.0.0.1:${config.services[upstream]!.port}`;
}

/** The transport a URL names: `grpc://` is gRPC, anything else HTTP. */
export function transportOfUrl(url: string): Transport {
  return url.startsWith('grpc://') ? 'grpc' : 'http';
}
