/**
 * The Gateway API component: Kubernetes' own routing API in place of Istio's Gateway and VirtualServices, which Istio
 * implements (with `gatewayClassName: istio`, istiod deploys the gateway itself) and is moving its defaults to. Rendered from
 * the config, as a kustomize component over either overlay:
 *
 * - the ingress: a Gateway `greeting-mesh-ingress` and an HTTPRoute to the edge role, with the edge's CORS policy as the
 *   route's CORS filter, in place of Istio's Gateway and the ingress VirtualService;
 * - inside the mesh (GAMMA: an HTTPRoute whose parent is a Service): an HTTPRoute per role, in place of its VirtualService.
 *   Gateway API routes to Services, not to subsets, so every version gets a Service of its own, `service-<id>-<version>`
 *   (selecting its pods by `version`), and a route's weighted backendRefs name those. The role's Service stays what callers
 *   call. A DestinationRule per version's Service carries the role's traffic policy, as Istio applies policies by host;
 * - authorization: istiod's gateway runs as `greeting-mesh-ingress-istio` in the namespace, so the edge allows that identity
 *   instead of the Istio ingress gateway's, and the gateway itself is allowed traffic on its listener (deny-by-default holds
 *   for every workload in the namespace, the gateway included).
 *
 * HTTP only: the mesh routes attach to the Services' `http` port. With grpc-transport, gRPC hops are not routed by these
 * HTTPRoutes (that takes GRPCRoutes) and reach every version of a role in turn.
 */
import { edgeRole, roleVersion, roleVersions, servesGrpc } from '../../src/config/facts';
import type { PlatformConfig } from '../../src/config/schema';
import { corsPolicy } from '../../src/http/cors-policy';
import { GATEWAY, GENERATED_DIRS, HTTP_PORT, HTTP_PORT_NAME, principal, workloadName } from './layout';
import { DEFAULT_TRAFFIC_POLICY, callGraphPolicies, INGRESS, type AuthorizationPolicy, type DestinationRule, type TrafficPolicy } from './mesh';
import { deploymentName, servicePorts, versionSelectorLabels } from './workloads';

/** The Gateway API Gateway; istiod names what it deploys for it `<gateway>-<class>`. */
export const GATEWAY_API_GATEWAY = 'greeting-mesh-ingress';
export const GATEWAY_CLASS = 'istio';
export const GATEWAY_API_IDENTITY = `${GATEWAY_API_GATEWAY}-${GATEWAY_CLASS}`;
const LISTENER_PORT = 80;

/** The label istiod puts on the pods of the gateway it deploys for a Gateway. */
const GATEWAY_NAME_LABEL = 'gateway.networking.k8s.io/gateway-name';

export interface HTTPRouteRule {
  name?: string;
  matches?: { path?: { type: 'PathPrefix' | 'Exact'; value: string }; headers?: { type: 'Exact'; name: string; value: string }[] }[];
  filters?: { type: 'CORS'; cors: Record<string, unknown> }[];
  backendRefs?: { name: string; port: number; weight?: number }[];
  timeouts?: { request?: string; backendRequest?: string };
}

export interface HTTPRoute {
  apiVersion: 'gateway.networking.k8s.io/v1';
  kind: 'HTTPRoute';
  metadata: { name: string; labels?: Record<string, string> };
  spec: {
    parentRefs: ({ name: string } | { group: ''; kind: 'Service'; name: string; port: number })[];
    hostnames?: string[];
    rules: HTTPRouteRule[];
  };
}

/** The Service one version of a role is reached by under Gateway API: `service-<id>-<version>`, like its Deployment. */
export function versionServiceName(id: string, version: string): string {
  return deploymentName(id, version);
}

export function toVersionService(id: string, version: string, weight?: number) {
  return { name: versionServiceName(id, version), port: HTTP_PORT, ...(weight === undefined ? {} : { weight }) };
}

/** A role's mesh route (parent: the role's Service, its http port) with the given rules: what a scenario replaces. */
export function roleHttpRoute(id: string, rules: HTTPRouteRule[]): HTTPRoute {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: workloadName(id) },
    spec: { parentRefs: [{ group: '', kind: 'Service', name: workloadName(id), port: HTTP_PORT }], rules },
  };
}

export function meshHttpRoutes(config: PlatformConfig): HTTPRoute[] {
  return Object.keys(config.services).map((id) => roleHttpRoute(id, [{ backendRefs: [toVersionService(id, roleVersion(config, id))] }]));
}

function versionServices(config: PlatformConfig): object[] {
  return Object.keys(config.services).flatMap((id) =>
    roleVersions(config, id).map((version) => ({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: versionServiceName(id, version), labels: versionSelectorLabels(id, version) },
      spec: { selector: versionSelectorLabels(id, version), ports: servicePorts(servesGrpc(config, id)) },
    })),
  );
}

/** A DestinationRule for one version's Service: Istio's traffic policies apply by host, and the routes send to these hosts. */
export function versionDestinationRule(id: string, version: string, trafficPolicy: TrafficPolicy = DEFAULT_TRAFFIC_POLICY): DestinationRule {
  const host = versionServiceName(id, version);
  return { apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', metadata: { name: host }, spec: { host, trafficPolicy } };
}

function versionDestinationRules(config: PlatformConfig): DestinationRule[] {
  return Object.keys(config.services).flatMap((id) => roleVersions(config, id).map((version) => versionDestinationRule(id, version)));
}

/** The edge's CORS policy (src/http/cors-policy.ts) as the route's CORS filter, so preflights are answered at the gateway. */
function corsFilter(config: PlatformConfig) {
  const policy = corsPolicy(config.services[edgeRole(config)]!.edge!);
  return {
    type: 'CORS' as const,
    cors: {
      allowOrigins: policy.allowOrigins,
      allowMethods: policy.allowMethods,
      allowHeaders: policy.allowHeaders,
      exposeHeaders: policy.exposeHeaders,
      ...(policy.allowCredentials ? { allowCredentials: true } : {}),
      maxAge: policy.maxAgeSeconds,
    },
  };
}

function ingressObjects(config: PlatformConfig): object[] {
  const edge = edgeRole(config);
  const backend = [toVersionService(edge, roleVersion(config, edge))];
  const gateway = {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'Gateway',
    metadata: { name: GATEWAY_API_GATEWAY },
    spec: {
      gatewayClassName: GATEWAY_CLASS,
      listeners: [{ name: HTTP_PORT_NAME, port: LISTENER_PORT, protocol: 'HTTP', allowedRoutes: { namespaces: { from: 'Same' } } }],
    },
  };
  const route: HTTPRoute = {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: `ingress-${workloadName(edge)}` },
    spec: {
      parentRefs: [{ name: GATEWAY_API_GATEWAY }],
      rules: [
        { name: 'api', matches: [{ path: { type: 'PathPrefix', value: '/api' } }], filters: [corsFilter(config)], backendRefs: backend },
        { name: 'ui', matches: [{ path: { type: 'PathPrefix', value: '/' } }], backendRefs: backend },
      ],
    },
  };
  const gatewayAllowed: AuthorizationPolicy = {
    apiVersion: 'security.istio.io/v1',
    kind: 'AuthorizationPolicy',
    metadata: { name: `allow-anyone-to-${GATEWAY_API_GATEWAY}` },
    spec: {
      selector: { matchLabels: { [GATEWAY_NAME_LABEL]: GATEWAY_API_GATEWAY } },
      action: 'ALLOW',
      rules: [{ to: [{ operation: { ports: [String(LISTENER_PORT)] } }] }],
    },
  };
  return [gateway, route, gatewayAllowed];
}

export interface Deletion {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  $patch: 'delete';
}

/** What the component takes out of the base: Istio's ingress Gateway and every VirtualService (one router per host). */
function deletions(config: PlatformConfig): Deletion[] {
  const del = (kind: string, name: string): Deletion => ({ apiVersion: 'networking.istio.io/v1', kind, metadata: { name }, $patch: 'delete' });
  return [
    del('Gateway', GATEWAY),
    del('VirtualService', `ingress-${workloadName(edgeRole(config))}`),
    ...Object.keys(config.services).map((id) => del('VirtualService', workloadName(id))),
  ];
}

/** The edge's ingress policy, allowing istiod's gateway instead (a whole object: a patch of a custom resource replaces lists). */
function ingressPolicy(config: PlatformConfig): AuthorizationPolicy {
  const policy = callGraphPolicies(config).find((p) => p.metadata!.name === `allow-${INGRESS}-to-${workloadName(edgeRole(config))}`)!;
  return { ...policy, spec: { ...policy.spec, rules: [{ from: [{ source: { principals: [principal(GATEWAY_API_IDENTITY)] } }] }] } };
}

export interface GatewayApiComponent {
  resources: Record<string, object[]>;
  patches: Record<string, object[]>;
  deletions: Deletion[];
}

export function gatewayApiComponent(config: PlatformConfig): GatewayApiComponent {
  return {
    resources: {
      'gateway.yaml': ingressObjects(config),
      'http-routes-mesh.yaml': meshHttpRoutes(config),
      'services-per-version.yaml': versionServices(config),
      'destination-rules-per-version.yaml': versionDestinationRules(config),
    },
    patches: { 'authorization-policy-ingress.yaml': [ingressPolicy(config)] },
    deletions: deletions(config),
  };
}

/** Where the component's objects a scenario replaces come from: what its undo applies again. */
export const GATEWAY_API_SHIPPED = {
  httpRoutes: `${GENERATED_DIRS.gatewayApi}/http-routes-mesh.yaml`,
  destinationRules: `${GENERATED_DIRS.gatewayApi}/destination-rules-per-version.yaml`,
} as const;
