/**
 * The cluster gate (`npm run verify:cluster`) is not a formality: defects seeded into rendered copies of the tree make it
 * fail, each one in the check of the tool that must catch it, naming the object. Both copies go through one run of the gate,
 * so one API server serves them all; the upgrade check starts from this repository's own tree, so a change only an upgrade
 * refuses (an immutable field) is seeded too. Every finding must come from a seed: the copies are otherwise this tree, which
 * the gate itself passes in CI.
 *
 * The real tools are required: without them this test fails with the command that builds them.
 */
import { expect } from 'bun:test';
import { describeRequiring } from '../support/requirements';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { CheckResult } from '../../scripts/verify-cluster/findings';
import { INSTALL_HINT, findTools } from '../../scripts/verify-cluster/tools';
import { ROOT } from './manifests';

interface Seed {
  /** What is wrong, in words. */
  defect: string;
  file: string;
  edit: (text: string) => string;
  /** The check that must fail (a pattern on its name) and the object it must name. */
  check: RegExp;
  object: string;
  message?: RegExp;
}

/** Replaces exactly one occurrence, so a seed that no longer applies fails loudly instead of seeding nothing. */
function once(text: string, from: string | RegExp, to: string): string {
  const matches = text.match(new RegExp(typeof from === 'string' ? from.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') : from.source, 'g'));
  if (matches?.length !== 1) throw new Error(`seed: expected one match of ${from}, found ${matches?.length ?? 0}`);
  return text.replace(from, to);
}

/** The text from the document of `kind` named `name` on, with `edit` applied there only. */
function inDocument(kind: string, name: string, edit: (doc: string) => string) {
  return (text: string) => {
    const docs = text.split(/^---\n/m);
    const i = docs.findIndex((d) => new RegExp(`^kind: ${kind}\\n(?:.*\\n)*?metadata:\\n  name: ${name}\\n`, 'm').test(d));
    if (i < 0) throw new Error(`seed: no ${kind} ${name}`);
    docs[i] = edit(docs[i]!);
    return docs.join('---\n');
  };
}

const SEEDS: Record<'a' | 'b', Seed[]> = {
  a: [
    {
      defect: 'an HPA whose minimum is above its maximum',
      file: 'deploy/gke/generated/horizontal-pod-autoscalers.yaml',
      edit: inDocument('HorizontalPodAutoscaler', 'service-c-v1', (d) => once(d, 'minReplicas: 2', 'minReplicas: 7')),
      check: /kube-apiserver: server-side apply deploy\/gke$/,
      object: 'HorizontalPodAutoscaler/service-c-v1',
      message: /minReplicas/,
    },
    {
      defect: 'a CPU request above its limit',
      file: 'deploy/base/generated/service-b.yaml',
      edit: (t) => once(t, 'cpu: 20m', 'cpu: 900m'),
      check: /kube-apiserver: server-side apply deploy\/kind$/,
      object: 'Deployment/service-b-v1',
      message: /must be less than or equal to cpu limit/,
    },
    {
      defect: 'a route to a subset no DestinationRule defines',
      file: 'deploy/istio/generated/virtual-services-all-v1.yaml',
      edit: inDocument('VirtualService', 'service-d', (d) => once(d, 'subset: v1', 'subset: v2')),
      check: /istioctl analyze: deploy\/kind$/,
      object: 'VirtualService/service-d',
      message: /IST0101/,
    },
    {
      defect: 'a Deployment selector changed: accepted fresh, refused on upgrade (immutable)',
      file: 'deploy/base/generated/service-e.yaml',
      edit: inDocument('Deployment', 'service-e-v1', (d) =>
        once(once(d, '  selector:\n    matchLabels:\n', '  selector:\n    matchLabels:\n      tier: greeting\n'), '    metadata:\n      labels:\n', '    metadata:\n      labels:\n        tier: greeting\n'),
      ),
      check: /kube-apiserver: upgrade deploy\/kind from/,
      object: 'Deployment/service-e-v1',
      message: /field is immutable/,
    },
    {
      defect: 'an autoscaled Deployment that still sets replicas',
      file: 'deploy/gke/generated/kustomization.yaml',
      edit: (t) => once(t, /  - target:\n      kind: Deployment\n      name: service-a-v1\n    patch: .*\n/, ''),
      check: /kube-apiserver: server-side apply deploy\/gke$/,
      object: 'Deployment/service-a-v1',
      message: /sets replicas, which HorizontalPodAutoscaler\/service-a-v1 owns/,
    },
    {
      defect: 'a canary to a version no DestinationRule has a subset for',
      file: 'deploy/istio/scenarios/virtual-service-h-80-20.yaml',
      edit: (t) => once(t, 'subset: v2', 'subset: v3'),
      check: /istioctl analyze: deploy\/kind \+ scenario canary-h-80-20$/,
      object: 'VirtualService/service-h',
      message: /IST0101/,
    },
    {
      defect: 'a scenario the catalogue says adds nothing, so its undo would leave its policy behind',
      file: 'deploy/istio/scenarios/scenarios.json',
      edit: (t) => {
        const entry = /"id": "deny-e-v2-to-h"[\s\S]*?"adds": \[[\s\S]*?\]/.exec(t)!;
        return t.replace(entry[0], entry[0].replace(/"adds": \[[\s\S]*\]$/, '"adds": []'));
      },
      check: /kube-apiserver: scenarios applied and undone over deploy\/kind$/,
      object: 'AuthorizationPolicy/deny-service-e-v2-to-service-h',
      message: /the undo would leave it behind/,
    },
    {
      defect: 'resource_deps naming a resource that does not exist (Tilt only warns)',
      file: 'Tiltfile',
      edit: (t) => once(t, "deps.append('mongodb')", "deps.append('mongo')"),
      check: /tilt: Tiltfile loads \(tilt up\)/,
      object: 'Tiltfile',
      message: /mongo/,
    },
  ],
  b: [
    {
      defect: 'an AuthorizationPolicy with both a selector and targetRefs',
      file: 'deploy/istio/generated/authorization-policies-call-graph.yaml',
      edit: inDocument('AuthorizationPolicy', 'allow-service-a-to-service-b', (d) =>
        once(d, '  action: ALLOW\n', '  targetRefs:\n    - kind: Service\n      group: ""\n      name: service-b\n  action: ALLOW\n'),
      ),
      check: /kube-apiserver: server-side apply deploy\/kind$/,
      object: 'AuthorizationPolicy/allow-service-a-to-service-b',
    },
    {
      defect: "a waypoint listening on port 0 (the Gateway API's CRD schema, served beside Istio's, refuses it)",
      file: 'deploy/components/ambient/waypoint.yaml',
      edit: (t) => once(t, 'port: 15008', 'port: 0'),
      check: /kube-apiserver: server-side apply deploy\/kind \+ components\/ambient$/,
      object: 'Gateway/waypoint',
      message: /port/,
    },
    {
      defect: 'a CORS origin regex RE2 refuses',
      file: 'deploy/istio/generated/virtual-service-ingress.yaml',
      edit: (t) => once(t, 'regex: .*', 'regex: "(?!evil).*"'),
      check: /istioctl validate: deploy\/gke$/,
      object: 'VirtualService/ingress-service-a',
      message: /RE2|regexp/,
    },
    {
      defect: 'a gateway node port outside the Service node-port range',
      file: 'deploy/kind/istio-operator.yaml',
      edit: (t) => once(t, 'nodePort: 30080', 'nodePort: 80'),
      check: /deploy\/kind\/istio-operator.yaml generates an install the server accepts/,
      object: 'Service/istio-ingressgateway',
      message: /nodePort|range/,
    },
    {
      defect: 'a DNS-resolved ServiceEntry for a wildcard host',
      file: 'deploy/components/external-backends/service-entry-mongodb-atlas.yaml',
      edit: (t) => once(t, 'resolution: NONE', 'resolution: DNS'),
      check: /istioctl (validate|analyze): deploy\/gke$/,
      object: 'ServiceEntry/mongodb-atlas',
    },
    {
      defect: 'a misspelt field in a scenario (strict field validation refuses it; istioctl validate too)',
      file: 'deploy/istio/scenarios/virtual-service-e-timeout.yaml',
      edit: (t) => once(t, '      timeout: 1s', '      timeOut: 1s'),
      check: /kube-apiserver: scenarios applied and undone over deploy\/kind$/,
      object: 'VirtualService/service-e',
      message: /scenario timeout-e: .*timeOut/,
    },
    {
      defect: "a Gateway API backend weight above the CRD's maximum",
      file: 'deploy/components/gateway-api/scenarios/http-route-h-80-20.yaml',
      edit: (t) => once(t, 'weight: 20', 'weight: 2000000'),
      check: /kube-apiserver: scenarios applied and undone over deploy\/kind \+ components\/gateway-api$/,
      object: 'HTTPRoute/service-h',
      message: /1000000/,
    },
    {
      defect: "a Gateway listener on port 0 (Gateway API's CRD schema, served by the API server)",
      file: 'deploy/components/gateway-api/generated/gateway.yaml',
      edit: (t) => once(t, 'port: 80\n', 'port: 0\n'),
      check: /kube-apiserver: server-side apply deploy\/kind \+ components\/gateway-api$/,
      object: 'Gateway/greeting-mesh-ingress',
    },
    {
      defect: 'a k8s_resource for a workload that does not exist (live mode only)',
      file: 'Tiltfile',
      edit: (t) => once(t, "k8s_yaml(encode_yaml_stream(writable_sources(objects) if LIVE else objects))", "k8s_yaml(encode_yaml_stream(writable_sources(objects) if LIVE else objects))\nif LIVE:\n    k8s_resource('service-z', labels=['services'])"),
      check: /tilt: Tiltfile loads \(tilt up -- --live\)/,
      object: 'Tiltfile',
      message: /service-z/,
    },
  ],
};

/** What the copy needs: the cluster files, and what the Tiltfile reads and runs (the render, its config, the sources). */
const COPIED = ['deploy', 'config', 'scripts', 'src', 'Tiltfile', 'Dockerfile', '.dockerignore', 'package.json', 'package-lock.json', 'tsconfig.json'];

function seededCopy(parent: string, name: string, seeds: Seed[]): string {
  const root = join(parent, name);
  for (const entry of COPIED) cpSync(join(ROOT, entry), join(root, entry), { recursive: true, filter: (src) => !src.endsWith('/.release') });
  symlinkSync(join(ROOT, 'node_modules'), join(root, 'node_modules'));
  for (const seed of seeds) {
    const file = join(root, seed.file);
    writeFileSync(file, seed.edit(readFileSync(file, 'utf8')));
  }
  return root;
}

let results: CheckResult[] = [];
let output = '';
let status: number | null = null;
let copies: Record<string, string> = {};

const missing = (() => {
  try {
    findTools();
    return undefined;
  } catch (err) {
    return `the gate's tools are missing: ${(err as Error).message}`;
  }
})();

describeRequiring('the cluster gate on seeded defects', missing, ({ describe, test, beforeAll }) => {
  beforeAll(() => {
    const parent = mkdtempSync(join(tmpdir(), 'seeded-'));
    try {
      copies = { a: seededCopy(parent, 'seeded-a', SEEDS.a), b: seededCopy(parent, 'seeded-b', SEEDS.b) };
      const report = join(parent, 'report.json');
      const gate = Bun.spawnSync(
        [process.execPath, join(ROOT, 'scripts/verify-cluster/main.ts'), '--root', copies.a!, '--root', copies.b!, '--upgrade-from', ROOT, '--combinations', 'each', '--report', report],
        { cwd: ROOT, stdout: 'pipe', stderr: 'pipe' },
      );
      status = gate.exitCode;
      output = `${gate.stdout.toString()}\n${gate.stderr.toString()}`;
      results = JSON.parse(readFileSync(report, 'utf8'));
    } catch (err) {
      throw new Error(`the gate did not run: ${(err as Error).message}\n${output}\n(${INSTALL_HINT})`);
    } finally {
      rmSync(parent, { recursive: true, force: true });
    }
  }, 900_000);

  describe('each seeded defect', () => {
    test('fails, and says so in its exit status', () => {
      expect(status).toBe(1);
    });

    for (const [copy, seeds] of Object.entries(SEEDS)) {
      for (const seed of seeds) {
        test(`${seed.defect}: ${seed.check.source.replace(/\\/g, '')} names ${seed.object}`, () => {
          const checks = results.filter((r) => basename(r.root) === `seeded-${copy}` && seed.check.test(r.name));
          expect(checks.map((c) => c.name).length).toBeGreaterThan(0);
          const hits = checks.flatMap((c) => c.findings).filter((f) => f.object === seed.object);
          expect({ seed: seed.defect, named: hits.length > 0, output: hits.length > 0 ? '' : output }).toEqual({ seed: seed.defect, named: true, output: '' });
          if (seed.message) expect(hits.some((f) => seed.message!.test(f.message))).toBe(true);
        });
      }
      test(`copy ${copy}: every finding is about a seeded object`, () => {
        const expected = new Set(seeds.map((s) => s.object));
        const stray = results
          .filter((r) => basename(r.root) === `seeded-${copy}`)
          .flatMap((r) => r.findings.filter((f) => !expected.has(f.object)).map((f) => `${r.name}: ${f.object}: ${f.message}`));
        expect(stray).toEqual([]);
      });
    }
  });
});
