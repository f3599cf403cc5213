/**
 * The scenarios, applied and undone for real, as `npm run scenario` does it: the set a scenario goes over (the kind overlay as
 * shipped, or with the gateway-api component) applied once as the deploy applies it, then each scenario server-side applied
 * as the scenario command's field manager, taking over the shipped routes (strict field validation; Istio's and Gateway
 * API's schemas and CEL rules) and read back as applied; then undone, as the command does it (the shipped objects it
 * replaced applied again by that manager, what it added deleted), after which every object must be exactly as it was before
 * the scenario, its label and every field the scenario set gone, and what it added must be gone too.
 */
import { applyAll, differences, inNamespace, readBack } from '../apply';
import type { Cluster } from '../cluster';
import { objectName, statusMessage, type K8sObject } from '../kube-client';
import type { CheckResult, Finding } from '../findings';
import type { ScenarioSet } from '../render';
import { SCENARIO_FIELD_MANAGER } from '../../render/scenario-readme';

const strip = (o: K8sObject) => {
  const { metadata, status: _status, ...rest } = o;
  return { ...rest, labels: metadata.labels ?? {}, annotations: metadata.annotations ?? {} };
};

async function checkFlavour(cluster: Cluster, sets: ScenarioSet[], root: string): Promise<CheckResult> {
  const client = cluster.client;
  const base = sets[0]!.base;
  const namespace = `sc-${base.namespace}`.slice(0, 63).replace(/-$/, '');
  const shipped = inNamespace(base.objects, namespace, client);
  const findings: Finding[] = [];
  const first = await applyAll(client, shipped);
  for (const f of first.findings) findings.push({ object: f.object, message: `the set the scenarios go over was refused: ${f.message}` });
  const find = (ref: { kind: string; name: string }) => shipped.find((o) => o.kind === ref.kind && o.metadata.name === ref.name);
  let undone = 0;
  for (const set of sets) {
    const said = (message: string) => `scenario ${set.scenario}: ${message}`;
    const missing = set.replaces.filter((r) => !find(r));
    for (const r of missing) findings.push({ object: `${r.kind}/${r.name}`, message: said(`replaces an object ${base.name} does not have`) });
    const before = new Map<string, K8sObject>();
    for (const r of set.replaces) {
      const o = find(r);
      if (o) before.set(objectName(o), (await client.get(o)).body);
    }
    const objects = inNamespace(set.applied, namespace, client);
    const listed = new Set([...set.replaces, ...set.adds].map((r) => `${r.kind}/${r.name}`));
    for (const o of objects.filter((x) => !listed.has(objectName(x))))
      findings.push({ object: objectName(o), message: said('in the file, but the catalogue neither replaces nor adds it: the undo would leave it behind') });
    const applied = [];
    for (const o of objects) {
      const answer = await client.apply(o, { manager: SCENARIO_FIELD_MANAGER });
      if (answer.status >= 300) findings.push({ object: objectName(o), message: said(statusMessage(answer)) });
      else applied.push({ object: o, stored: answer.body });
    }
    for (const f of (await readBack(client, applied)).findings) findings.push({ object: f.object, message: said(f.message) });

    // The undo, as scripts/scenario/main.ts does it.
    for (const r of set.replaces) {
      const o = find(r);
      if (!o) continue;
      const answer = await client.apply(o, { manager: SCENARIO_FIELD_MANAGER });
      if (answer.status >= 300) findings.push({ object: objectName(o), message: said(`undo refused: ${statusMessage(answer)}`) });
    }
    for (const a of set.adds) {
      const o = objects.find((x) => x.kind === a.kind && x.metadata.name === a.name);
      if (!o) {
        findings.push({ object: `${a.kind}/${a.name}`, message: said('the catalogue says the scenario adds it, its file has no such object') });
        continue;
      }
      await client.delete(o);
      const gone = await client.get(o);
      if (gone.status !== 404) findings.push({ object: objectName(o), message: said(`still there after the undo deleted it (${gone.status})`) });
    }
    for (const [name, was] of before) {
      const o = find({ kind: was.kind, name: was.metadata.name })!;
      const now = (await client.get(o)).body as K8sObject;
      // Both ways: a field the undo lost, and one the scenario set that the undo left behind.
      for (const d of differences(strip(was), strip(now)))
        findings.push({ object: name, message: said(`not as shipped after the undo: ${d.replace('applied', 'shipped').replace('stored', 'now')}`) });
      for (const d of differences(strip(now), strip(was)))
        findings.push({ object: name, message: said(`left behind by the undo: ${d.replace('applied', 'now').replace('not stored', 'not shipped').replace('stored', 'shipped')}`) });
    }
    undone++;
  }
  return {
    name: `kube-apiserver: scenarios applied and undone over ${base.name}`,
    root,
    findings,
    summary: `${undone} scenarios applied as ${SCENARIO_FIELD_MANAGER}, read back, undone to the shipped objects`,
  };
}

export async function checkScenarioApplies(cluster: Cluster, sets: ScenarioSet[], root: string): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const flavour of ['istio', 'gateway-api'] as const) {
    const of = sets.filter((s) => s.flavour === flavour);
    if (of.length > 0) results.push(await checkFlavour(cluster, of, root));
  }
  return results;
}
