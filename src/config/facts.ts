/**
 * Facts derived from the config, each written once: what a role is called in the cluster, how its upstreams' URLs are
 * named, which backends it needs, which role is the edge. The service (src/) and the render (scripts/render/) both ask here,
 * so the manifests and the process that runs them cannot drift apart.
 */
import type { ChaosOptions, PlatformConfig, Resources, RoleConfig, StoreTarget, Transport } from './schema';

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

/** The role's default version: the one its own fields describe, where the mesh routes unless a scenario says otherwise. */
export function roleVersion(config: PlatformConfig, id: string): string {
  return config.services[id]!.version ?? config.defaults.version;
}

/** Every version of a role, its default first, then the ones it declares, in config order. */
export function roleVersions(config: PlatformConfig, id: string): string[] {
  return [roleVersion(config, id), ...Object.keys(config.services[id]!.versions ?? {})];
}

/** The roles that run more than one version: the ones a canary, a switch or a dark launch can be shown on. */
export function versionedRoles(config: PlatformConfig): string[] {
  return Object.keys(config.services).filter((id) => roleVersions(config, id).length > 1);
}

/** One version of a role as it runs: the role's own fields with what the version changes laid over them. */
export interface VersionFacts {
  version: string;
  isDefault: boolean;
  greeting: string;
  chaos: ChaosOptions;
  replicas: number;
  resources: Resources;
  /** The image tag it runs, when the config pins one; otherwise whatever the overlay deploys. */
  tag?: string;
  /** Its HTTP port in the local platform. */
  port: number;
}

export function versionFacts(config: PlatformConfig, id: string, version = roleVersion(config, id)): VersionFacts {
  const role = config.services[id]!;
  const declared = Object.keys(role.versions ?? {});
  // The default version is the role's own fields, even where a version of that name is (wrongly) declared as well.
  const extra = version === roleVersion(config, id) ? undefined : role.versions?.[version];
  const base = {
    version,
    isDefault: extra === undefined,
    greeting: role.greeting,
    chaos: { latencyMs: role.chaos?.latencyMs ?? 0, errorRate: role.chaos?.errorRate ?? 0 },
    replicas: role.replicas ?? config.defaults.replicas,
    resources: role.resources ?? config.defaults.resources,
    port: role.port,
  };
  if (!extra) return base;
  return {
    ...base,
    greeting: extra.greeting ?? base.greeting,
    chaos: { latencyMs: extra.chaos?.latencyMs ?? base.chaos.latencyMs, errorRate: extra.chaos?.errorRate ?? base.chaos.errorRate },
    replicas: extra.replicas ?? base.replicas,
    resources: extra.resources ?? base.resources,
    tag: extra.tag,
    // Derived ports step by 100, clear of the roles' own run of consecutive ports (8080, 8081, ...).
    port: extra.port ?? role.port + 100 * (declared.indexOf(version) + 1),
  };
}

export function roleReplicas(config: PlatformConfig, id: string, version?: string): number {
  return versionFacts(config, id, version).replicas;
}

/**
 * The Deployment of one version of a role: `service-<id>-<version>`, as Bookinfo names `reviews-v1`. Every version has its own,
 * selecting its own pods by `version` too, so no two Deployments, PodDisruptionBudgets or autoscalers ever share a pod.
 */
export function deploymentName(id: string, version: string): string {
  return `${workloadName(id)}-${version}`;
}

/**
 * The mesh identity (ServiceAccount) one version runs as. The default version keeps the role's `service-<id>`, so a role that
 * gains a version keeps the principal every policy already names; every other version has its own, `service-<id>-<version>`,
 * which is what lets an AuthorizationPolicy tell one version's calls from another's (the mesh has no label-based sources).
 */
export function identityName(config: PlatformConfig, id: string, version: string): string {
  return version === roleVersion(config, id) ? workloadName(id) : deploymentName(id, version);
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

/** The role's gRPC port in the local platform (a version other than the default: its own HTTP port + 10000). */
export function localGrpcPort(config: PlatformConfig, id: string, version?: string): number {
  const facts = version === undefined ? undefined : versionFacts(config, id, version);
  if (facts && !facts.isDefault) return facts.port + 10_000;
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
