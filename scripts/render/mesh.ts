/**
 * The Istio objects that follow from the config: the ingress route to the edge role, a subset per version and outlier
 * detection per role, a route per role to its default version, and one AuthorizationPolicy per call-graph edge, allowing
 * every version of the caller, so the mesh allows exactly the calls the config makes. The static objects (Gateway,
 * PeerAuthentication STRICT, the deny-by-default policy) are hand-written beside the output.
 */
import type { IDestinationRule } from '@kubernetes-models/istio/networking.istio.io/v1beta1/DestinationRule';
import type { IVirtualService } from '@kubernetes-models/istio/networking.istio.io/v1beta1/VirtualService';
import type { IAuthorizationPolicy } from '@kubernetes-models/istio/security.istio.io/v1/AuthorizationPolicy';
import { edgeRole, edgeTransport, identityName, roleVersions } from '../../src/config/facts';
import type { PlatformConfig, Transport } from '../../src/config/schema';
import { GREETING_METHOD } from '../../src/grpc/names';
import { corsPolicy } from '../../src/http/cors-policy';
import { GATEWAY, HTTP_PORT, INGRESS_PRINCIPAL, MONGODB, PATHS, RABBITMQ, principal, workloadName } from './layout';
import { roleVersion, usesMongo, usesRabbitmq } from './workloads';

export { principal };

/** Istio's networking v1 has the same schema as v1beta1 (the newest the model package ships); v1 needs Istio 1.22 or later. */
type V1<T> = Omit<T, 'apiVersion'> & { apiVersion: 'networking.istio.io/v1' };
export type DestinationRule = V1<IDestinationRule>;
export type VirtualService = V1<IVirtualService>;
export type AuthorizationPolicy = IAuthorizationPolicy;
export type HttpRoute = NonNullable<NonNullable<VirtualService['spec']>['http']>[number];
export type TrafficPolicy = NonNullable<NonNullable<DestinationRule['spec']>['trafficPolicy']>;
type CorsPolicy = NonNullable<HttpRoute['corsPolicy']>;

export interface Edge {
  /** A role id, or `ingress` for the Istio ingress gateway. */
  from: string;
  to: string;
}

export const INGRESS = 'ingress';

export { edgeRole };

/** Every HTTP call of the platform: the ingress gateway to the edge role, then each role to each of its upstreams. */
export function callGraph(config: PlatformConfig): Edge[] {
  const edges: Edge[] = [{ from: INGRESS, to: edgeRole(config) }];
  for (const [id, role] of Object.entries(config.services)) for (const up of role.upstreams) edges.push({ from: id, to: up });
  return edges;
}

/** Every backend connection of the platform: who opens a connection to MongoDB or RabbitMQ. */
export function backendGraph(config: PlatformConfig): Edge[] {
  const edges: Edge[] = [];
  for (const id of Object.keys(config.services)) {
    if (usesMongo(config, id)) edges.push({ from: id, to: MONGODB.name });
    if (usesRabbitmq(config, id)) edges.push({ from: id, to: RABBITMQ.name });
  }
  return edges;
}

/** Who makes a call of the graph: the ingress gateway, or every version of the calling role, each by its own identity. */
export function callerPrincipals(config: PlatformConfig, from: string): string[] {
  return from === INGRESS ? [INGRESS_PRINCIPAL] : roleVersions(config, from).map((v) => principal(identityName(config, from, v)));
}

/** The edge's own CORS policy (src/http/cors-policy.ts), said in Istio's terms. */
function ingressCorsPolicy(config: PlatformConfig, id: string): CorsPolicy {
  const policy = corsPolicy(config.services[id]!.edge!);
  return {
    // `*` is a wildcard in the config; in Istio it is only a literal string, so it becomes a match-anything regex.
    allowOrigins: policy.allowOrigins.map((origin) => (origin === '*' ? { regex: '.*' } : { exact: origin })),
    allowMethods: policy.allowMethods,
    allowHeaders: policy.allowHeaders,
    exposeHeaders: policy.exposeHeaders,
    allowCredentials: policy.allowCredentials,
    maxAge: `${policy.maxAgeSeconds}s`,
  };
}

export function ingressVirtualService(config: PlatformConfig): VirtualService {
  const id = edgeRole(config);
  const destination = { host: workloadName(id), subset: roleVersion(config, id), port: { number: HTTP_PORT } };
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'VirtualService',
    metadata: { name: `ingress-${workloadName(id)}` },
    spec: {
      hosts: ['*'],
      gateways: [GATEWAY],
      http: [
        { name: 'api', match: [{ uri: { prefix: '/api' } }], route: [{ destination }], corsPolicy: ingressCorsPolicy(config, id) },
        { name: 'ui', match: [{ uri: { prefix: '/' } }], route: [{ destination }] },
      ],
    },
  };
}

/** A role's VirtualService with the given routes: the one object every routing scenario of that role replaces. */
export function roleVirtualService(id: string, http: HttpRoute[]): VirtualService {
  return { apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: workloadName(id) }, spec: { hosts: [workloadName(id)], http } };
}

/** A route's destination: one version of a role (a subset its DestinationRule defines), with a share of the traffic. */
export function toVersion(id: string, version: string, weight?: number) {
  return { destination: { host: workloadName(id), subset: version }, ...(weight === undefined ? {} : { weight }) };
}

/** Pins the traffic inside the mesh to each role's default version: the place a canary split goes (scenarios.ts). */
export function meshVirtualServices(config: PlatformConfig): VirtualService[] {
  return Object.keys(config.services).map((id) => roleVirtualService(id, [{ route: [toVersion(id, roleVersion(config, id))] }]));
}

/** A replica that fails five times in a row is taken out for 30 s; at most half the replicas are ever out. */
export const DEFAULT_TRAFFIC_POLICY: TrafficPolicy = {
  outlierDetection: { consecutive5xxErrors: 5, interval: '10s', baseEjectionTime: '30s', maxEjectionPercent: 50 },
};

/** A role's DestinationRule: one subset per version (by its `version` label), whatever the traffic policy. */
export function roleDestinationRule(config: PlatformConfig, id: string, trafficPolicy: TrafficPolicy = DEFAULT_TRAFFIC_POLICY): DestinationRule {
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'DestinationRule',
    metadata: { name: workloadName(id) },
    spec: {
      host: workloadName(id),
      trafficPolicy,
      subsets: roleVersions(config, id).map((version) => ({ name: version, labels: { version } })),
    },
  };
}

export function destinationRules(config: PlatformConfig): DestinationRule[] {
  return Object.keys(config.services).map((id) => roleDestinationRule(config, id));
}

/** The one request a role makes of another, as the mesh sees it over each transport. */
export function greetingOperation(transport: Transport) {
  return transport === 'grpc' ? { methods: ['POST'], paths: [GREETING_METHOD] } : { methods: ['GET'], paths: [PATHS.greeting] };
}

/**
 * One ALLOW per call-graph edge: the caller's identity, and for role-to-role calls only the one request the caller makes,
 * over the transport it makes it with (`everyHop`: as if every call went over that one).
 */
export function callGraphPolicies(config: PlatformConfig, everyHop?: Transport): AuthorizationPolicy[] {
  return callGraph(config).map((edge) => ({
    apiVersion: 'security.istio.io/v1',
    kind: 'AuthorizationPolicy',
    metadata: { name: `allow-${edge.from === INGRESS ? INGRESS : workloadName(edge.from)}-to-${workloadName(edge.to)}` },
    spec: {
      selector: { matchLabels: { app: workloadName(edge.to) } },
      action: 'ALLOW',
      rules: [
        edge.from === INGRESS
          ? { from: [{ source: { principals: callerPrincipals(config, edge.from) } }] }
          : {
              from: [{ source: { principals: callerPrincipals(config, edge.from) } }],
              to: [{ operation: greetingOperation(edgeTransport(config, edge.from, edge.to, everyHop)) }],
            },
      ],
    },
  }));
}

/** One ALLOW per backend connection, for the in-cluster MongoDB and RabbitMQ (TCP: identity and port only). */
export function backendPolicies(config: PlatformConfig): AuthorizationPolicy[] {
  return backendGraph(config).map((edge) => {
    const backend = edge.to === MONGODB.name ? MONGODB : RABBITMQ;
    return {
      apiVersion: 'security.istio.io/v1',
      kind: 'AuthorizationPolicy',
      metadata: { name: `allow-${workloadName(edge.from)}-to-${backend.name}` },
      spec: {
        selector: { matchLabels: { app: backend.name } },
        action: 'ALLOW',
        rules: [
          {
            from: [{ source: { principals: callerPrincipals(config, edge.from) } }],
            to: [{ operation: { ports: [String(backend.port)] } }],
          },
        ],
      },
    };
  });
}
