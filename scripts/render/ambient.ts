/**
 * The part of the ambient component (deploy/components/ambient) that follows from the config. In ambient mode there is no
 * sidecar to enforce the call graph's L7 rules (method and path): ztunnel, on every node, sees only L4 and identities, so
 * the same allow-list moves to the namespace's waypoint proxy, one AuthorizationPolicy per call-graph edge that targets the
 * callee's Service (`targetRefs`; the waypoint enforces what targets a Service it serves). ztunnel keeps the L4 half: the
 * namespace's deny-by-default holds, and each role's pods admit the waypoint's identity on their port, so every call passes
 * the waypoint and its rules. The sidecar policies (`selector`, L7 rules) are removed: ztunnel would turn an L7 rule it cannot
 * check into a deny. The edge's Service also takes traffic from the ingress gateway through the waypoint.
 *
 * Hand-written beside it (static): the waypoint Gateway, the namespace's labels, the `istio.io/use-waypoint` label on every
 * role's Service.
 *
 * Both transports: the waypoint allows the one greeting request of each edge over HTTP and over gRPC, and ztunnel admits the
 * waypoint on both ports. Which one a pod serves is its env's (the grpc-transport component changes the pods, not these
 * policies), and a pod answers only the transport it serves, so allowing both grants no other request; the ambient and
 * grpc-transport components then compose in either order.
 */
import type { PlatformConfig } from '../../src/config/schema';
import { GRPC_PORT, HTTP_PORT, principal, workloadName } from './layout';
import { callerPrincipals, callGraph, callGraphPolicies, edgeRole, greetingOperation, INGRESS, type AuthorizationPolicy, type Edge } from './mesh';

const TRANSPORTS = ['http', 'grpc'] as const;

/** A policy that names what it applies to instead of selecting pods (Istio 1.22+; the model package predates the field). */
type TargetedPolicy = Omit<AuthorizationPolicy, 'spec'> & {
  spec: NonNullable<AuthorizationPolicy['spec']> & { targetRefs: { kind: string; group: string; name: string }[] };
};

/** The waypoint Gateway's name (waypoint.yaml); Istio runs it under a ServiceAccount of the same name. */
export const WAYPOINT = 'waypoint';

/** The same rule as the sidecar policy of this edge (mesh.ts), enforced by the waypoint for the callee's Service. */
function waypointPolicy(config: PlatformConfig, edge: Edge): TargetedPolicy {
  const from = { from: [{ source: { principals: callerPrincipals(config, edge.from) } }] };
  return {
    apiVersion: 'security.istio.io/v1',
    kind: 'AuthorizationPolicy',
    metadata: { name: `waypoint-allow-${edge.from === INGRESS ? INGRESS : workloadName(edge.from)}-to-${workloadName(edge.to)}` },
    spec: {
      targetRefs: [{ kind: 'Service', group: '', name: workloadName(edge.to) }],
      action: 'ALLOW',
      rules: [edge.from === INGRESS ? from : { ...from, to: TRANSPORTS.map((t) => ({ operation: greetingOperation(t) })) }],
    },
  };
}

export function waypointPolicies(config: PlatformConfig): TargetedPolicy[] {
  return callGraph(config).map((edge) => waypointPolicy(config, edge));
}

/** ztunnel's half, per role: its pods take connections from the waypoint on their ports, and from nobody else. */
export function ztunnelPolicies(config: PlatformConfig): AuthorizationPolicy[] {
  return Object.keys(config.services).map((id) => ({
    apiVersion: 'security.istio.io/v1',
    kind: 'AuthorizationPolicy',
    metadata: { name: `ztunnel-allow-${WAYPOINT}-to-${workloadName(id)}` },
    spec: {
      selector: { matchLabels: { app: workloadName(id) } },
      action: 'ALLOW',
      rules: [{ from: [{ source: { principals: [principal(WAYPOINT)] } }], to: [{ operation: { ports: [String(HTTP_PORT), String(GRPC_PORT)] } }] }],
    },
  }));
}

/** Kustomize patches: each sidecar call-graph policy deleted, and the edge's Service opened to ingress through the waypoint. */
export function ambientPatches(config: PlatformConfig): { target?: { kind: string; name: string }; patch: string }[] {
  const deletions = callGraphPolicies(config).map((policy) => ({
    patch: JSON.stringify({ apiVersion: policy.apiVersion, kind: policy.kind, metadata: { name: policy.metadata!.name }, $patch: 'delete' }),
  }));
  const edge = workloadName(edgeRole(config));
  const ingress = {
    target: { kind: 'Service', name: edge },
    patch: JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name: edge, labels: { 'istio.io/ingress-use-waypoint': 'true' } } }),
  };
  return [...deletions, ingress];
}
