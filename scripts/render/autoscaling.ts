/**
 * The GKE overlay's autoscaling: a HorizontalPodAutoscaler per Deployment (each version of each role) that runs at all,
 * between the config's replica count and three times that, and a patch that takes `replicas` out of those Deployments so an
 * apply never resets what the HPA chose. Versions scale apart: a canary's share of the traffic is the mesh's weight, its
 * pod count the HPA's answer to the load that weight sends it.
 */
import type { IHorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import type { PlatformConfig } from '../../src/config/schema';
import { deploymentName, roleReplicas, roleVersions, versionSelectorLabels } from './workloads';

/** Scale out when the pods use three quarters of the CPU they request. */
const CPU_TARGET_PERCENT = 75;
const MAX_FACTOR = 3;

/** Each version's Deployment that runs at all: one scaled to zero in the config stays at zero (an HPA's minimum is at least 1). */
export function autoscaledDeployments(config: PlatformConfig): { id: string; version: string; name: string }[] {
  return Object.keys(config.services).flatMap((id) =>
    roleVersions(config, id)
      .filter((version) => roleReplicas(config, id, version) > 0)
      .map((version) => ({ id, version, name: deploymentName(id, version) })),
  );
}

export function horizontalPodAutoscalers(config: PlatformConfig): IHorizontalPodAutoscaler[] {
  return autoscaledDeployments(config).map(({ id, version, name }) => {
    const min = roleReplicas(config, id, version);
    return {
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name, labels: versionSelectorLabels(id, version) },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
        minReplicas: min,
        maxReplicas: min * MAX_FACTOR,
        metrics: [
          { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: CPU_TARGET_PERCENT } } },
        ],
      },
    };
  });
}

/** Kustomize patches (JSON 6902) removing `spec.replicas` from each autoscaled Deployment. */
export function replicaRemovalPatches(config: PlatformConfig): { target: { kind: string; name: string }; patch: string }[] {
  return autoscaledDeployments(config).map(({ name }) => ({
    target: { kind: 'Deployment', name },
    patch: JSON.stringify([{ op: 'remove', path: '/spec/replicas' }]),
  }));
}
