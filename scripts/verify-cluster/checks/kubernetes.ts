/**
 * Every rendered set, server-side applied for real to the API server (strict field validation), then read back: a refusal,
 * a field the server pruned or rewrote, or a Deployment whose `replicas` an apply would take back from its
 * HorizontalPodAutoscaler is a finding naming the object.
 */
import { applyAll, inNamespace, readBack } from '../apply';
import type { Cluster } from '../cluster';
import { FIELD_MANAGER, objectName, statusMessage, type K8sObject, type KubeClient } from '../kube-client';
import type { CheckResult, Finding } from '../findings';
import type { RenderedSet } from '../render';

/** The manager name the HPA controller's scale updates carry (it runs inside kube-controller-manager). */
export const HPA_MANAGER = 'kube-controller-manager';

function ownsReplicas(stored: K8sObject, manager: string): boolean {
  return (stored.metadata.managedFields as any[] | undefined ?? []).some(
    (m) => m.manager === manager && m.operation === 'Apply' && m.fieldsV1?.['f:spec']?.['f:replicas'] !== undefined,
  );
}

/**
 * For each HPA's Deployment: the apply must not own `replicas`, and after the HPA has scaled it (simulated through the scale
 * subresource, as the controller does), applying the same set again must leave the HPA's choice alone.
 */
async function hpaOwnsReplicas(client: KubeClient, objects: K8sObject[]): Promise<Finding[]> {
  const findings: Finding[] = [];
  for (const hpa of objects.filter((o) => o.kind === 'HorizontalPodAutoscaler')) {
    const ref = hpa.spec.scaleTargetRef;
    const target = objects.find((o) => o.kind === ref.kind && o.metadata.name === ref.name);
    if (!target) {
      findings.push({ object: objectName(hpa), message: `scales ${ref.kind}/${ref.name}, which the set does not contain` });
      continue;
    }
    const stored = (await client.get(target)).body as K8sObject;
    if (ownsReplicas(stored, FIELD_MANAGER)) {
      findings.push({ object: objectName(target), message: `the manifest sets replicas, which ${objectName(hpa)} owns: every apply resets the HPA's choice` });
      continue;
    }
    const scaled = hpa.spec.maxReplicas as number;
    const answer = await client.scale(target, scaled, HPA_MANAGER);
    if (answer.status >= 300) {
      findings.push({ object: objectName(target), message: `scaling as the HPA would was refused: ${statusMessage(answer)}` });
      continue;
    }
    const again = await client.apply(target);
    const replicas = again.body?.spec?.replicas;
    if (again.status >= 300) findings.push({ object: objectName(target), message: `re-apply refused: ${statusMessage(again)}` });
    else if (replicas !== scaled)
      findings.push({ object: objectName(target), message: `re-applying the set moved replicas from the HPA's ${scaled} to ${replicas}` });
  }
  return findings;
}

export async function checkApply(cluster: Cluster, set: RenderedSet, root: string): Promise<CheckResult> {
  const client = cluster.client;
  const objects = inNamespace(set.objects, set.namespace, client);
  const { applied, findings } = await applyAll(client, objects);
  const back = await readBack(client, applied);
  findings.push(...back.findings, ...(await hpaOwnsReplicas(client, objects)));
  const hpas = objects.filter((o) => o.kind === 'HorizontalPodAutoscaler').length;
  return {
    name: `kube-apiserver: server-side apply ${set.name}`,
    root,
    findings,
    summary: `${applied.length}/${objects.length} objects stored as applied, ${back.defaulted} fields defaulted by the server` +
      (hpas > 0 ? `, replicas left to ${hpas} HPAs` : ''),
  };
}
