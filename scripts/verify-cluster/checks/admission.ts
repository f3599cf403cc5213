/**
 * Proof that the API server calls no admission webhook, before anything of Istio's is applied: its command line disables
 * both webhook plugins, and a webhook registered at a loopback listener of the gate's own (failurePolicy Fail, matching a
 * ConfigMap the check then creates) is never called. Were a plugin on, the call would reach only that listener, and the
 * ConfigMap would be refused.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DISABLED_ADMISSION_PLUGINS, type Cluster } from '../cluster';
import { statusMessage, type K8sObject } from '../kube-client';
import type { CheckResult, Finding } from '../findings';

const PROBE = 'verify-admission-probe';

function webhookConfiguration(kind: string, url: string, caBundle: string): K8sObject {
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind,
    metadata: { name: PROBE },
    webhooks: [
      {
        name: `${kind.toLowerCase()}.${PROBE}.greeting-mesh.local`,
        clientConfig: { url, caBundle },
        rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['configmaps'] }],
        namespaceSelector: { matchLabels: { [PROBE]: 'true' } },
        failurePolicy: 'Fail',
        sideEffects: 'None',
        admissionReviewVersions: ['v1'],
        timeoutSeconds: 5,
      },
    ],
  };
}

export async function checkAdmission(cluster: Cluster, root: string): Promise<CheckResult> {
  const findings: Finding[] = [];
  const name = 'kube-apiserver: admission webhooks are off (nothing is called, not even on loopback)';
  const argv = readFileSync(`/proc/${cluster.apiserverPid}/cmdline`, 'utf8').split('\0');
  const flag = `--disable-admission-plugins=${DISABLED_ADMISSION_PLUGINS.join(',')}`;
  if (!argv.includes(flag)) findings.push({ object: 'kube-apiserver', message: `runs without ${flag}` });

  const calls: string[] = [];
  const cert = readFileSync(join(cluster.pki, 'apiserver.crt'), 'utf8');
  const listener = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    tls: { cert, key: readFileSync(join(cluster.pki, 'apiserver.key'), 'utf8') },
    async fetch(request) {
      const review = (await request.json()) as { request?: { uid?: string } };
      calls.push(new URL(request.url).pathname);
      const response = { uid: review.request?.uid, allowed: false, status: { message: 'the admission probe refuses everything' } };
      return Response.json({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response });
    },
  });
  const client = cluster.client;
  const hooks = ['ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration'].map((kind) =>
    webhookConfiguration(kind, `https://127.0.0.1:${listener.port}/${kind}`, Buffer.from(cert).toString('base64')),
  );
  const namespace: K8sObject = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: PROBE, labels: { [PROBE]: 'true' } } };
  const configMap: K8sObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: PROBE, namespace: PROBE }, data: { probe: 'x' } };
  try {
    for (const o of [namespace, ...hooks]) {
      const answer = await client.apply(o);
      if (answer.status >= 300) findings.push({ object: `${o.kind}/${o.metadata.name}`, message: statusMessage(answer) });
    }
    // The webhook plugins read their configurations from an informer; give it time to see them, as it would when enabled.
    await Bun.sleep(2000);
    const created = await client.apply(configMap);
    if (calls.length > 0) findings.push({ object: 'kube-apiserver', message: `called the probe webhook: ${calls.join(', ')}` });
    if (created.status >= 300) findings.push({ object: `ConfigMap/${PROBE}`, message: `refused: ${statusMessage(created)}` });
  } finally {
    for (const o of hooks) await client.delete(o);
    await client.delete(namespace);
    listener.stop(true);
  }
  return { name, root, findings, summary: `${flag}; probe webhook called ${calls.length} times` };
}
