/**
 * Istio's install, as the two IstioOperator files describe it: istioctl generates the manifests from each file (refusing an
 * unknown profile, component or value), the CRDs among them are applied for real and awaited, so every Istio object of ours
 * later meets its real OpenAPI schema and CEL rules, and the rest is applied too: the kind install for real (read back, then
 * removed), the GKE one as a dry run (both go to istio-system). Webhook configurations and APIServices are never applied: they would point the API
 * server at a Service address that is not on this machine. The mesh-wide Telemetry beside each IstioOperator file
 * (telemetry-mesh-tracing.yaml, which deploy/istio/install.sh applies right after the install) is part of the install here:
 * applied with it, and analyzed with it, so a provider it names that the mesh config lacks is found.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { applyAll, deleteAll, readBack } from '../apply';
import type { Cluster } from '../cluster';
import { objectName, type K8sObject } from '../kube-client';
import type { CheckResult, Finding } from '../findings';
import { runAsync } from '../processes';
import { OVERLAYS, parseYamlStream } from '../render';
import type { Tools } from '../tools';

/** Kinds that make the API server call out to a Service; the admission check proves the webhook plugins are off as well. */
const NEVER_APPLIED = new Set(['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration', 'APIService']);

export interface IstioInstall {
  /** Per overlay: the generated install manifest and the operator's meshConfig, both for `istioctl analyze`. */
  manifest: Partial<Record<(typeof OVERLAYS)[number], string>>;
  meshConfig: Partial<Record<(typeof OVERLAYS)[number], string>>;
  results: CheckResult[];
}

export const operatorFile = (overlay: string) => `deploy/${overlay}/istio-operator.yaml`;
export const meshTelemetryFile = (overlay: string) => `deploy/${overlay}/telemetry-mesh-tracing.yaml`;

async function waitEstablished(cluster: Cluster, crds: K8sObject[]): Promise<Finding[]> {
  const deadline = Date.now() + 60_000;
  let pending = crds;
  while (pending.length > 0 && Date.now() < deadline) {
    const states = await Promise.all(pending.map((crd) => cluster.client.get(crd)));
    pending = pending.filter(
      (_, i) => !(states[i]!.body?.status?.conditions ?? []).some((c: any) => c.type === 'Established' && c.status === 'True'),
    );
    if (pending.length > 0) await Bun.sleep(200);
  }
  return pending.map((crd) => ({ object: objectName(crd), message: 'not Established within 60 s' }));
}

/** A CRD whose conversion is a webhook makes the API server call a Service on every read: refused outright. */
function conversionWebhooks(objects: K8sObject[]): Finding[] {
  return objects
    .filter((o) => o.kind === 'CustomResourceDefinition' && o.spec?.conversion?.strategy === 'Webhook')
    .map((o) => ({ object: objectName(o), message: 'converts through a webhook (a Service call): not applied' }));
}

/** Istio's CRDs (istioctl's base component, the same in every profile), applied for real and awaited. */
export async function installIstioCrds(tools: Tools, cluster: Cluster, root: string): Promise<CheckResult> {
  const name = "istioctl + kube-apiserver: Istio's CRDs are served";
  const generated = await runAsync(tools.istioctl, ['manifest', 'generate', '--set', 'profile=minimal']);
  if (generated.status !== 0) return { name, root, findings: [{ object: 'istioctl', message: generated.stderr.trim() }], summary: 'generation failed' };
  const all = parseYamlStream(generated.stdout);
  const crds = all.filter((o) => o.kind === 'CustomResourceDefinition' && o.spec?.conversion?.strategy !== 'Webhook');
  const applied = await applyAll(cluster.client, crds);
  const findings = [...conversionWebhooks(all), ...applied.findings, ...(await waitEstablished(cluster, crds))];
  await cluster.client.discover();
  return { name, root, findings, summary: `${applied.applied.length}/${crds.length} CRDs established` };
}

/**
 * Gateway API's CRDs (the standard channel of the release the pinned Istio is built against; cluster-tools/build.sh fetches
 * them from its Go module), applied for real and awaited, so the gateway-api component's routes and the ambient component's
 * waypoint (a Gateway) meet their real schemas and CEL rules. Istio does not install them; a cluster's owner does.
 */
export async function installGatewayApiCrds(tools: Tools, cluster: Cluster, root: string): Promise<CheckResult> {
  const name = "kube-apiserver: Gateway API's CRDs are served";
  const crds = parseYamlStream(readFileSync(tools.gatewayApiCrds, 'utf8')).filter((o) => o.kind === 'CustomResourceDefinition');
  const applied = await applyAll(cluster.client, crds);
  const findings = [...conversionWebhooks(crds), ...applied.findings, ...(await waitEstablished(cluster, crds))];
  await cluster.client.discover();
  return { name, root, findings, summary: `${applied.applied.length}/${crds.length} CRDs established (${tools.versions['gateway-api']})` };
}

export async function installIstio(tools: Tools, cluster: Cluster, root: string, work: string): Promise<IstioInstall> {
  mkdirSync(work, { recursive: true });
  const install: IstioInstall = { manifest: {}, meshConfig: {}, results: [] };
  // For real even before a dry run: a dry run into a namespace that does not exist is refused.
  await applyAll(cluster.client, [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'istio-system' } }]);
  for (const overlay of OVERLAYS) {
    const file = operatorFile(overlay);
    const findings: Finding[] = [];
    const generated = await runAsync(tools.istioctl, ['manifest', 'generate', '-f', join(root, file)]);
    const name = `istioctl + kube-apiserver: ${file} generates an install the server accepts`;
    if (generated.status !== 0) {
      findings.push({ object: file, message: `istioctl manifest generate: ${generated.stderr.trim()}` });
      install.results.push({ name, root, findings, summary: 'generation failed' });
      continue;
    }
    const telemetryFile = join(root, meshTelemetryFile(overlay));
    const telemetry = existsSync(telemetryFile) ? readFileSync(telemetryFile, 'utf8') : '';
    if (!telemetry) findings.push({ object: meshTelemetryFile(overlay), message: 'missing: install.sh applies it after the install (the mesh-wide tracing provider and sampling)' });
    const objects = [...parseYamlStream(generated.stdout), ...parseYamlStream(telemetry)];
    const manifestFile = join(work, `${overlay}-install.yaml`);
    writeFileSync(manifestFile, telemetry ? `${generated.stdout}\n---\n${telemetry}` : generated.stdout);
    install.manifest[overlay] = manifestFile;
    const meshConfig = (parse(readFileSync(join(root, file), 'utf8')) as any)?.spec?.meshConfig ?? {};
    install.meshConfig[overlay] = join(work, `${overlay}-mesh-config.yaml`);
    writeFileSync(install.meshConfig[overlay]!, JSON.stringify(meshConfig));

    // The CRDs are served already (installIstioCrds); applying this install's own copy checks it is the same schema.
    findings.push(...conversionWebhooks(objects));
    const applicable = objects.filter((o) => !NEVER_APPLIED.has(o.kind) && o.spec?.conversion?.strategy !== 'Webhook');
    const skipped = objects.filter((o) => NEVER_APPLIED.has(o.kind)).map(objectName);
    const dryRun = overlay !== 'kind';
    const applied = await applyAll(cluster.client, applicable, { dryRun });
    findings.push(...applied.findings);
    if (!dryRun) {
      findings.push(...(await readBack(cluster.client, applied.applied)).findings);
      // Cluster-wide and in istio-system, so not moved into a namespace of its own: removed for the next tree instead.
      await deleteAll(cluster.client, applied.applied);
    }
    install.results.push({
      name,
      root,
      findings,
      summary: `${applied.applied.length}/${applicable.length} objects ${dryRun ? 'accepted in a dry run' : 'applied'}; not applied: ${skipped.join(', ') || 'none'}`,
    });
  }
  return install;
}
