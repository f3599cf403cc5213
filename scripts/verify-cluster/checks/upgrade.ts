/**
 * The upgrade a deploy performs: each shipped overlay of the previous version applied for real, its HPAs' Deployments scaled
 * as the HPA would, then the current version applied over it. What a fresh apply cannot show shows here: a change to an
 * immutable field (a Deployment's selector, a StatefulSet's volumeClaimTemplates, a Service's clusterIP) is refused, and a
 * manifest that takes `replicas` back from an HPA resets it.
 */
import { applyAll, inNamespace } from '../apply';
import type { Cluster } from '../cluster';
import { objectName } from '../kube-client';
import type { CheckResult, Finding } from '../findings';
import type { RenderedSet } from '../render';
import { HPA_MANAGER } from './kubernetes';

export async function checkUpgrade(
  cluster: Cluster,
  previous: RenderedSet,
  current: RenderedSet,
  from: string,
  root: string,
): Promise<CheckResult> {
  const client = cluster.client;
  const namespace = `u${current.namespace}`.slice(0, 63).replace(/-$/, '');
  const before = inNamespace(previous.objects, namespace, client);
  const after = inNamespace(current.objects, namespace, client);
  const first = await applyAll(client, before);
  const scaled = new Map<string, number>();
  for (const hpa of before.filter((o) => o.kind === 'HorizontalPodAutoscaler')) {
    const target = before.find((o) => o.kind === hpa.spec.scaleTargetRef.kind && o.metadata.name === hpa.spec.scaleTargetRef.name);
    if (!target || !first.applied.some((a) => a.object === target)) continue;
    const answer = await client.scale(target, hpa.spec.maxReplicas, HPA_MANAGER);
    if (answer.status < 300) scaled.set(objectName(target), hpa.spec.maxReplicas);
  }
  const second = await applyAll(client, after);
  const findings: Finding[] = [...second.findings];
  for (const { object, stored } of second.applied) {
    const want = scaled.get(objectName(object));
    const hpaStays = after.some((o) => o.kind === 'HorizontalPodAutoscaler' && o.spec.scaleTargetRef.name === object.metadata.name);
    if (want !== undefined && hpaStays && stored.spec?.replicas !== want)
      findings.push({ object: objectName(object), message: `the upgrade moved replicas from the HPA's ${want} to ${stored.spec?.replicas}` });
  }
  const note = first.findings.length > 0 ? `; ${first.findings.length} objects of ${from} itself refused` : '';
  return {
    name: `kube-apiserver: upgrade ${current.name} from ${from}`,
    root,
    findings,
    summary: `${second.applied.length}/${after.length} objects applied over ${first.applied.length} of the previous version${note}`,
  };
}
