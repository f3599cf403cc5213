/**
 * The GKE overlay's autoscaling: a HorizontalPodAutoscaler per role that runs at all, between the config's replica count and
 * three times that, and a patch that takes `replicas` out of those Deployments so an apply never resets what the HPA chose.
 */
import type { IHorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import type { PlatformConfig } from '../../src/config/schema';
import { workloadName } from './layout';
import { roleReplicas } from './workloads';

/** Scale out when the pods use three quarters of the CPU they request. */
const CPU_TARGET_PERCENT = 75;
const MAX_FACTOR = 3;

/** Roles scaled to zero in the config stay at zero: an HPA's minimum is at least 1. */
export function autoscaledRoles(config: PlatformConfig): string[] {
  return Object.keys(config.services).filter((id) => roleReplicas(config, id) > 0);
}

export function horizontalPodAutoscalers(config: PlatformConfig): IHorizontalPodAutoscaler[] {
  return autoscaledRoles(config).map((id) => {
    const min = roleReplicas(config, id);
    return {
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: workloadName(id) },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: workloadName(id) },
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
  return autoscaledRoles(config).map((id) => ({
    target: { kind: 'Deployment', name: workloadName(id) },
    patch: JSON.stringify([{ op: 'remove', path: '/spec/replicas' }]),
  }));
}
