/**
 * The one schema of `config/services.json`: every role of the platform is a record here, and the topology
 * (who calls whom, who stores, publishes or consumes) is nothing but this data.
 */
import { Type as t, type Static } from '@sinclair/typebox';
import { MAX_BYTES, MAX_DURATION_MS } from './limits';

const Quantity = t.String({ minLength: 1, pattern: '^[0-9]+(\\.[0-9]+)?(m|Ki|Mi|Gi|k|M|G)?$' });

export const Resources = t.Object(
  {
    requests: t.Object({ cpu: Quantity, memory: Quantity }, { additionalProperties: false }),
    limits: t.Object({ cpu: Quantity, memory: Quantity }, { additionalProperties: false }),
  },
  { additionalProperties: false },
);

/** A MongoDB database and collection. */
export const StoreTarget = t.Object(
  {
    database: t.String({ minLength: 1, pattern: '^[^/\\\\. "$]+$' }),
    collection: t.String({ minLength: 1, pattern: '^[^$]+$' }),
  },
  { additionalProperties: false },
);

const QueueName = t.String({ minLength: 1, maxLength: 255 });

export const PublishOptions = t.Object({ queue: QueueName }, { additionalProperties: false });

export const ConsumeOptions = t.Object(
  { queue: QueueName, prefetch: t.Integer({ minimum: 1, maximum: 1000, default: 32 }), store: StoreTarget },
  { additionalProperties: false },
);

export const EdgeOptions = t.Object(
  {
    /** CORS origins; `*` is never combined with credentials (checked in validate.ts). */
    allowedOrigins: t.Array(t.String({ minLength: 1 }), { default: ['*'], minItems: 1 }),
    allowCredentials: t.Boolean({ default: false }),
    /** `/api/request-echo` answers 413 above this many body bytes. */
    echoBodyLimitBytes: t.Integer({ minimum: 0, maximum: MAX_BYTES, default: 65536 }),
    /**
     * How `GET /api/greeting` shapes its answer: the REST variant's bare array, or `gateway`, the original gRPC variant's
     * grpc-gateway JSON `{"greeting": [...]}` that its UI reads (GREETING_SHAPE).
     */
    greetingShape: t.Union([t.Literal('array'), t.Literal('gateway')], { default: 'array' }),
  },
  { additionalProperties: false },
);

export const ChaosOptions = t.Object(
  {
    latencyMs: t.Integer({ minimum: 0, maximum: MAX_DURATION_MS, default: 0 }),
    errorRate: t.Number({ minimum: 0, maximum: 1, default: 0 }),
  },
  { additionalProperties: false },
);

/**
 * A version's name: its pods' `version` label (what Istio's subsets and Kiali read), and part of object names
 * (`service-<id>-<version>`: Deployments, ServiceAccounts, the Gateway API component's per-version Services), so it must be a
 * DNS label short enough for both: lowercase letters, digits and `-`, starting with a letter, at most 30 characters.
 */
const VERSION_PATTERN = '^[a-z]([-a-z0-9]{0,28}[a-z0-9])?$';
export const VersionName = t.String({ pattern: VERSION_PATTERN });

/** What one more version of a role changes from the role's own fields (which are its default version). */
export const VersionOptions = t.Object(
  {
    greeting: t.Optional(t.String({ minLength: 1 })),
    /** Field by field over the role's own chaos: `{"latencyMs": 300}` keeps the role's error rate. */
    chaos: t.Optional(t.Partial(ChaosOptions)),
    replicas: t.Optional(t.Integer({ minimum: 0, maximum: 100 })),
    resources: t.Optional(Resources),
    /** The image tag this version runs, when it is another build than the one the overlays deploy (deploy/README.md). */
    tag: t.Optional(t.String({ pattern: '^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$' })),
    /** Its port in the local platform (default: the role's port + 100 for its first extra version, + 200 for the next, ...). */
    port: t.Optional(t.Integer({ minimum: 1, maximum: 65535 })),
  },
  { additionalProperties: false },
);

/** The fields a version may set: everything else (upstreams, store, edge, ...) is the role's, the same in every version. */
export const VERSION_FIELDS = Object.keys(VersionOptions.properties);

/** How a role is called: HTTP/1.1 with JSON (the original's REST variant), or gRPC over HTTP/2 (its protobuf-grpc variant). */
export const Transport = t.Union([t.Literal('http'), t.Literal('grpc')]);

export const RoleConfig = t.Object(
  {
    name: t.String({ minLength: 1 }),
    greeting: t.String({ minLength: 1 }),
    /** The port of this role in the local platform; in the cluster every pod listens on 8080 (PORT). */
    port: t.Integer({ minimum: 1, maximum: 65535 }),
    /** The name of the version the role's own fields describe (default: defaults.version). */
    version: t.Optional(VersionName),
    /**
     * More versions of this role, each by what it changes: every version is a Deployment of its own in the cluster (label
     * `version`), behind the role's one Service, and a process of its own in the local platform.
     */
    versions: t.Optional(t.Record(VersionName, VersionOptions, { additionalProperties: false })),
    /** Role ids called on every greeting, in this order in the answer. */
    upstreams: t.Array(t.String({ minLength: 1 }), { default: [] }),
    /** How its callers call this role (default: defaults.transport). */
    transport: t.Optional(Transport),
    /** Per upstream, how this role calls it, over what that upstream's own `transport` says (one edge of the graph). */
    upstreamTransport: t.Optional(t.Record(t.String({ minLength: 1 }), Transport)),
    /** The role's gRPC port in the local platform, when it is called over gRPC (default: its port + 10000); 50051 in a pod. */
    grpcPort: t.Optional(t.Integer({ minimum: 1, maximum: 65535 })),
    /** Store this role's own greeting on every request. */
    store: t.Optional(StoreTarget),
    /** Publish this role's own greeting to a queue on every request. */
    publish: t.Optional(PublishOptions),
    /** Consume greetings from a queue and store each one exactly once. */
    consume: t.Optional(ConsumeOptions),
    /** The edge role: CORS, request-echo, status, the UI. */
    edge: t.Optional(EdgeOptions),
    chaos: t.Optional(ChaosOptions),
    replicas: t.Optional(t.Integer({ minimum: 0, maximum: 100 })),
    resources: t.Optional(Resources),
  },
  { additionalProperties: false },
);

export const Defaults = t.Object(
  {
    version: t.String({ pattern: VERSION_PATTERN, default: 'v1' }),
    /** How roles are called unless a role or an edge says otherwise. */
    transport: t.Union([t.Literal('http'), t.Literal('grpc')], { default: 'http' }),
    upstreamTimeoutMs: t.Integer({ minimum: 1, maximum: MAX_DURATION_MS, default: 10000 }),
    /**
     * The largest upstream answer read: a whole chain's answer is a few kilobytes, and an answer is held in memory until it is
     * passed on, so a misbehaving upstream must not make every caller buffer megabytes.
     */
    upstreamMaxAnswerBytes: t.Integer({ minimum: 1024, maximum: MAX_BYTES, default: 1048576 }),
    drainDelayMs: t.Integer({ minimum: 0, maximum: MAX_DURATION_MS, default: 5000 }),
    shutdownTimeoutMs: t.Integer({ minimum: 1, maximum: MAX_DURATION_MS, default: 20000 }),
    replicas: t.Integer({ minimum: 0, maximum: 100, default: 2 }),
    resources: Resources,
  },
  { additionalProperties: false },
);

export const RoleId = t.String({ pattern: '^[a-z][a-z0-9]{0,19}$' });

export const PlatformConfig = t.Object(
  {
    $schema: t.Optional(t.String()),
    defaults: Defaults,
    services: t.Record(RoleId, RoleConfig, { additionalProperties: false, minProperties: 1 }),
  },
  { additionalProperties: false },
);

export type StoreTarget = Static<typeof StoreTarget>;
export type RoleConfig = Static<typeof RoleConfig>;
export type PlatformConfig = Static<typeof PlatformConfig>;
export type EdgeOptions = Static<typeof EdgeOptions>;
export type ChaosOptions = Static<typeof ChaosOptions>;
export type VersionOptions = Static<typeof VersionOptions>;
export type Resources = Static<typeof Resources>;
export type Transport = Static<typeof Transport>;
export type PublishOptions = Static<typeof PublishOptions>;
export type ConsumeOptions = Static<typeof ConsumeOptions>;
