/**
 * The gRPC variant as a kustomize component: every call between roles over gRPC, the edge still serving REST and the UI.
 * Rendered from the same config as the base, as patches over it: a role some caller now calls over gRPC gets its `grpc`
 * port (50051, `appProtocol: grpc`) on the Service and the container, GRPC_PORT, and a gRPC readiness probe; each caller's
 * SERVICE_<X>_URL becomes `grpc://service-x:50051`; each call-graph AuthorizationPolicy allows the gRPC method instead of
 * `GET /api/greeting`. Where the config already calls a hop over gRPC, the base has it and the patch changes nothing there.
 */
import { deploymentName, roleVersions, servesGrpc } from '../../src/config/facts';
import type { PlatformConfig } from '../../src/config/schema';
import { workloadName } from './layout';
import { callGraphPolicies, type AuthorizationPolicy } from './mesh';
import { containerPorts, readinessProbe, roleEnv, servicePorts } from './workloads';

/** A strategic-merge patch: named like its target, holding only what changes. */
export interface Patch {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec: Record<string, unknown>;
}

/**
 * One per version's Deployment. Env merges by name and ports by number; the HTTP readiness handler is removed (`null`), as a
 * probe has exactly one.
 */
function deploymentPatch(config: PlatformConfig, id: string, version: string): Patch {
  const grpc = servesGrpc(config, id, 'grpc');
  const container: Record<string, unknown> = { name: 'service', ports: containerPorts(grpc), env: roleEnv(config, id, 'grpc') };
  if (grpc) container.readinessProbe = { ...readinessProbe(true), httpGet: null };
  return { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: deploymentName(id, version) }, spec: { template: { spec: { containers: [container] } } } };
}

function servicePatch(id: string): Patch {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name: workloadName(id) }, spec: { ports: servicePorts(true) } };
}

export interface GrpcTransportComponent {
  deployments: Patch[];
  services: Patch[];
  /** Whole objects: a patch of a custom resource replaces its lists, so each policy's rules are given in full. */
  policies: AuthorizationPolicy[];
}

export function grpcTransportComponent(config: PlatformConfig): GrpcTransportComponent {
  const ids = Object.keys(config.services);
  return {
    deployments: ids.flatMap((id) => roleVersions(config, id).map((version) => deploymentPatch(config, id, version))),
    services: ids.filter((id) => servesGrpc(config, id, 'grpc')).map(servicePatch),
    policies: callGraphPolicies(config, 'grpc'),
  };
}
