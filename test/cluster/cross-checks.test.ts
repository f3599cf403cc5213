/**
 * What a cluster would only reveal at run time, checked on the rendered overlays: every Service reaches pods, every upstream
 * URL reaches the role it names, every probe path is a route of the app, the mesh allows exactly the config's call graph,
 * every workload of ours is hardened, and no secret value is written anywhere but the kind overlay's dev-only generator.
 * The expectations are computed here from config/services.json, not taken from the render code under test.
 */
import { describe, expect, test } from 'bun:test';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { loadConfig } from '../../src/config/settings';
import { ROUTES } from '../../src/http/routes';
import { OVERLAYS, ROOT, kustomize, matches, named, ofKind, serviceDeployments, type K8sObject } from './manifests';

const { config } = loadConfig();
const ids = Object.keys(config.services);
const NAMESPACE = 'dev';
const INGRESS_PRINCIPAL = 'cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account';
const edgeId = ids.find((id) => config.services[id]!.edge)!;

const container = (d: K8sObject) => d.spec.template.spec.containers[0];
const envOf = (d: K8sObject): { name: string; value?: string; valueFrom?: Record<string, any> }[] => container(d).env ?? [];
const envValue = (d: K8sObject, name: string) => envOf(d).find((e) => e.name === name)?.value;
const roleOf = (d: K8sObject) => envValue(d, 'ROLE')!;
const versionOf = (d: K8sObject) => d.spec.template.metadata.labels.version as string;
/** Every version of a role, from the config: the default (its own fields) first, then the ones it declares. */
const versionsOf = (id: string) => [config.services[id]!.version ?? config.defaults.version, ...Object.keys(config.services[id]!.versions ?? {})];
const isDefault = (id: string, version: string) => version === versionsOf(id)[0];
const workloads = (objects: K8sObject[]) => [...ofKind(objects, 'Deployment'), ...ofKind(objects, 'StatefulSet')];
const usesMongo = (id: string) => Boolean(config.services[id]!.store || config.services[id]!.consume);
const usesRabbit = (id: string) => Boolean(config.services[id]!.publish || config.services[id]!.consume);

/** The container port a Service or probe port (a name or a number) lands on, if the pod has it. */
function containerPort(pod: any, port: string | number): number | undefined {
  for (const c of pod.containers)
    for (const p of c.ports ?? []) if (p.name === port || p.containerPort === port) return p.containerPort as number;
  return undefined;
}

/** Which role or backend a principal belongs to: `ingress`, a role id, or undefined for anything else. */
function callerOf(principal: string, objects: K8sObject[]): string | undefined {
  if (principal === INGRESS_PRINCIPAL) return 'ingress';
  const m = /^cluster\.local\/ns\/([^/]+)\/sa\/([^/]+)$/.exec(principal);
  if (!m || m[1] !== NAMESPACE) return undefined;
  const user = serviceDeployments(objects).find((d) => d.spec.template.spec.serviceAccountName === m[2]);
  return user && roleOf(user);
}

/** Which roles (by the ROLE of their pods, every version) or backends (by app label) a policy's selector protects. */
function targetOf(policy: K8sObject, objects: K8sObject[]): string[] {
  const selector = policy.spec.selector?.matchLabels ?? {};
  const targets = workloads(objects)
    .filter((w) => matches(selector, w.spec.template.metadata.labels))
    .map((w) => (w.metadata.labels?.component === 'service' ? roleOf(w) : w.metadata.name));
  return [...new Set(targets)];
}

/** Every call of the config, once per version of the caller: each version calls with its own identity. */
const configEdges = () => [
  `ingress->${edgeId}`,
  ...ids.flatMap((id) => versionsOf(id).flatMap(() => config.services[id]!.upstreams.map((up) => `${id}->${up}`))),
];

for (const overlay of OVERLAYS) {
  describe(overlay, () => {
    const objects = kustomize(overlay);
    const deployments = serviceDeployments(objects);

    test('one Deployment per version of each role, service-<id>-<version>, each with its identity; one Service per role', () => {
      const expected = ids.flatMap((id) => versionsOf(id).map((v) => `${id}:${v}`));
      expect(deployments.map((d) => `${roleOf(d)}:${versionOf(d)}`).sort()).toEqual(expected.sort());
      for (const d of deployments) {
        const [id, version] = [roleOf(d), versionOf(d)];
        expect(d.metadata.name).toBe(`service-${id}-${version}`);
        const sa = d.spec.template.spec.serviceAccountName;
        // The default version keeps the role's identity (the principal every policy names); the others have their own.
        expect(named(objects, 'ServiceAccount', sa).metadata.name).toBe(isDefault(id, version) ? `service-${id}` : `service-${id}-${version}`);
        expect(named(objects, 'Service', `service-${id}`).spec.ports[0].name).toBe('http');
      }
      expect(ofKind(objects, 'Service').filter((s) => s.metadata.labels?.component === 'service').length).toBe(ids.length);
    });

    test(`everything lives in namespace ${NAMESPACE}, labelled for sidecar injection`, () => {
      const namespaces = ofKind(objects, 'Namespace');
      expect(namespaces.map((n) => n.metadata.name)).toEqual([NAMESPACE]);
      expect(namespaces[0]!.metadata.labels?.['istio-injection']).toBe('enabled');
      const elsewhere = objects.filter((o) => o.kind !== 'Namespace' && o.metadata.namespace !== NAMESPACE);
      expect(elsewhere.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([]);
    });

    test('every workload selects its own pods and no other workload\'s; a role\'s Service selects every version of it', () => {
      for (const w of workloads(objects)) {
        const claimed = workloads(objects).filter((o) => matches(w.spec.selector.matchLabels, o.spec.template.metadata.labels));
        expect({ workload: w.metadata.name, claims: claimed.map((o) => o.metadata.name) }).toEqual({ workload: w.metadata.name, claims: [w.metadata.name] });
      }
      for (const s of ofKind(objects, 'Service')) {
        const backing = workloads(objects).filter((w) => matches(s.spec.selector, w.spec.template.metadata.labels));
        const expected = s.metadata.labels?.component === 'service' ? versionsOf(s.metadata.name.replace(/^service-/, '')).length : 1;
        expect({ service: s.metadata.name, workloads: backing.length }).toEqual({ service: s.metadata.name, workloads: expected });
        for (const w of backing)
          for (const p of s.spec.ports)
            expect({ service: s.metadata.name, port: containerPort(w.spec.template.spec, p.targetPort) }).toEqual({
              service: s.metadata.name,
              port: expect.any(Number),
            });
      }
    });

    test('every upstream URL names a Service and port whose pods run exactly that upstream role', () => {
      for (const d of deployments) {
        const urls = envOf(d).filter((e) => /^SERVICE_[A-Z0-9]+_URL$/.test(e.name));
        expect(urls.map((e) => e.name).sort()).toEqual(
          config.services[roleOf(d)]!.upstreams.map((up) => `SERVICE_${up.toUpperCase()}_URL`).sort(),
        );
        for (const e of urls) {
          const url = new URL(e.value!);
          const host = url.hostname.replace(new RegExp(`\\.${NAMESPACE}\\.svc\\.cluster\\.local$`), '');
          const service = named(objects, 'Service', host);
          const port = service.spec.ports.find((p: any) => p.port === Number(url.port));
          expect({ url: e.value, port: port?.name }).toEqual({ url: e.value, port: 'http' });
          const target = deployments.filter((t) => matches(service.spec.selector, t.spec.template.metadata.labels));
          expect([...new Set(target.map(roleOf))]).toEqual([/^SERVICE_(.+)_URL$/.exec(e.name)![1]!.toLowerCase()]);
          for (const t of target) expect(containerPort(t.spec.template.spec, port.targetPort)).toBe(Number(envValue(t, 'PORT')));
        }
      }
    });

    test('every probe and the scrape path is a GET route of the app, on the port the app listens on', () => {
      const served = new Set(ROUTES.filter((r) => r.method === 'GET' && !r.edge).map((r) => r.path));
      for (const d of deployments) {
        const c = container(d);
        const listening = Number(envValue(d, 'PORT'));
        for (const probe of [c.startupProbe, c.livenessProbe, c.readinessProbe]) {
          expect(served.has(probe.httpGet.path)).toBe(true);
          expect(containerPort(d.spec.template.spec, probe.httpGet.port)).toBe(listening);
        }
        expect(c.livenessProbe.httpGet.path).not.toBe(c.readinessProbe.httpGet.path);
        const annotations = d.spec.template.metadata.annotations;
        expect(annotations['prometheus.io/scrape']).toBe('true');
        expect(served.has(annotations['prometheus.io/path'])).toBe(true);
        expect(Number(annotations['prometheus.io/port'])).toBe(listening);
      }
    });

    test('each role gets exactly the environment it needs', () => {
      for (const d of deployments) {
        const id = roleOf(d);
        const role = config.services[id]!;
        const expected = ['ROLE', 'PORT', 'LOG_LEVEL', 'SERVICE_VERSION', 'DRAIN_DELAY_MS', 'SHUTDOWN_TIMEOUT_MS', 'ZIPKIN_URL'];
        expected.push(...role.upstreams.map((up) => `SERVICE_${up.toUpperCase()}_URL`));
        if (role.publish || role.consume) expected.push('QUEUE_NAME', 'RABBITMQ_CONN');
        if (usesMongo(id)) expected.push('MONGO_CONN');
        expect({ id, env: envOf(d).map((e) => e.name).sort() }).toEqual({ id, env: expected.sort() });
        const queue = role.publish?.queue ?? role.consume?.queue;
        if (queue) expect(envValue(d, 'QUEUE_NAME')).toBe(queue);
      }
    });

    test('labels, resources and replicas follow the config, a version\'s own where it sets them', () => {
      for (const d of deployments) {
        const [id, version] = [roleOf(d), versionOf(d)];
        const role = config.services[id]!;
        const own = isDefault(id, version) ? {} : role.versions![version]!;
        const labels = { app: `service-${id}`, version, component: 'service' };
        expect(d.metadata.labels).toEqual(labels);
        expect(d.spec.template.metadata.labels).toEqual(labels);
        expect(d.spec.selector.matchLabels).toEqual({ app: `service-${id}`, component: 'service', version });
        expect(container(d).resources).toEqual(own.resources ?? role.resources ?? config.defaults.resources);
        const replicas = own.replicas ?? role.replicas ?? config.defaults.replicas;
        // On GKE the HorizontalPodAutoscaler owns the count; an apply must not reset it.
        if (overlay === 'deploy/gke' && replicas > 0) expect(d.spec.replicas).toBeUndefined();
        else expect(d.spec.replicas).toBe(replicas);
      }
    });

    test('a node drain evicts one pod of a role at a time: one PodDisruptionBudget per role, selecting exactly its pods', () => {
      const budgets = ofKind(objects, 'PodDisruptionBudget');
      expect(budgets.length).toBe(deployments.length);
      for (const d of deployments) {
        const selecting = budgets.filter((b) => matches(b.spec.selector.matchLabels, d.spec.template.metadata.labels));
        expect({ role: roleOf(d), budgets: selecting.map((b) => b.metadata.name) }).toEqual({ role: roleOf(d), budgets: [d.metadata.name] });
        const others = workloads(objects).filter((w) => w !== d && matches(selecting[0]!.spec.selector.matchLabels, w.spec.template.metadata.labels));
        expect(others).toEqual([]);
        // maxUnavailable 1 never blocks a drain (minAvailable equal to the replica count would), and leaves one pod of two serving.
        expect(selecting[0]!.spec).toMatchObject({ maxUnavailable: 1, unhealthyPodEvictionPolicy: 'AlwaysAllow' });
        expect(selecting[0]!.spec.minAvailable).toBeUndefined();
      }
    });

    test('every Deployment is hardened, and its grace period covers the drain delay and the shutdown budget', () => {
      for (const d of deployments) {
        const pod = d.spec.template.spec;
        expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
        expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
        expect(pod.automountServiceAccountToken).toBe(false);
        for (const c of pod.containers) {
          expect(c.securityContext).toMatchObject({
            runAsNonRoot: true,
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ['ALL'] },
          });
          expect(Number.isInteger(c.securityContext.runAsUser ?? pod.securityContext.runAsUser)).toBe(true);
          expect(c.resources.limits).toBeDefined();
        }
        const budgetMs = Number(envValue(d, 'DRAIN_DELAY_MS')) + Number(envValue(d, 'SHUTDOWN_TIMEOUT_MS'));
        expect(budgetMs).toBe(config.defaults.drainDelayMs + config.defaults.shutdownTimeoutMs);
        expect(pod.terminationGracePeriodSeconds * 1000).toBeGreaterThan(budgetMs);
      }
    });

    test('no secret value is written into a workload: credentials come from Secrets by reference', () => {
      for (const w of workloads(objects))
        for (const c of w.spec.template.spec.containers)
          for (const e of c.env ?? []) {
            if (/CONN|PASS|SECRET|TOKEN|KEY|USER/i.test(e.name))
              expect({ env: e.name, from: Object.keys(e.valueFrom ?? {}) }).toEqual({ env: e.name, from: ['secretKeyRef'] });
            expect(String(e.value ?? '')).not.toMatch(/:\/\/[^/@\s]*:[^/@\s]*@/);
          }
    });

    test('the mesh: mutual TLS only, deny by default, and an ALLOW for exactly the call graph of the config', () => {
      const peer = ofKind(objects, 'PeerAuthentication');
      expect(peer.map((p) => [p.spec.selector, p.spec.mtls.mode])).toEqual([[undefined, 'STRICT']]);
      const policies = ofKind(objects, 'AuthorizationPolicy');
      const denyAll = policies.filter((p) => !p.spec || Object.keys(p.spec).length === 0);
      expect(denyAll).toHaveLength(1);
      const roleIds = new Set(ids);
      const allowed = policies
        .filter((p) => p.spec && p.spec.action === 'ALLOW')
        .flatMap((p) => {
          const targets = targetOf(p, objects).filter((t) => roleIds.has(t));
          return p.spec.rules.flatMap((r: any) =>
            r.from.flatMap((f: any) =>
              f.source.principals.flatMap((pr: string) => targets.map((t) => `${callerOf(pr, objects) ?? pr}->${t}`)),
            ),
          );
        });
      expect(allowed.sort()).toEqual(configEdges().sort());
      for (const p of policies.filter((p) => p.spec?.action === 'ALLOW' && p.spec.rules[0].to)) {
        const paths = p.spec.rules[0].to[0].operation.paths ?? [];
        for (const path of paths) expect(ROUTES.some((r) => r.path === path)).toBe(true);
      }
    });

    test('every routed subset exists and selects the version its pods carry; outlier detection on every role', () => {
      const rules = ofKind(objects, 'DestinationRule');
      for (const d of deployments) {
        const rule = named(objects, 'DestinationRule', `service-${roleOf(d)}`);
        expect(rule.spec.trafficPolicy.outlierDetection).toBeDefined();
        const subset = rule.spec.subsets.find((s: any) => s.name === versionOf(d));
        expect({ deployment: d.metadata.name, subset: subset?.labels }).toEqual({ deployment: d.metadata.name, subset: { version: versionOf(d) } });
      }
      for (const vs of ofKind(objects, 'VirtualService'))
        for (const route of vs.spec.http)
          for (const { destination } of route.route) {
            const rule = rules.find((r) => r.spec.host === destination.host)!;
            expect(rule.spec.subsets.map((s: any) => s.name)).toContain(destination.subset);
            named(objects, 'Service', destination.host);
          }
      // Inside the mesh every role is pinned to its default version; a scenario moves it (deploy/istio/scenarios).
      for (const id of ids) {
        const vs = named(objects, 'VirtualService', `service-${id}`);
        expect(vs.spec.http.flatMap((r: any) => r.route.map((d: any) => d.destination.subset))).toEqual([versionsOf(id)[0]]);
      }
    });

    test('the ingress gateway routes /api and / to the edge role, with the CORS origins of its config', () => {
      const gateways = ofKind(objects, 'Gateway');
      const ingress = ofKind(objects, 'VirtualService').filter((vs) => vs.spec.gateways);
      expect(ingress).toHaveLength(1);
      const vs = ingress[0]!;
      expect(vs.spec.gateways.every((g: string) => gateways.some((gw) => gw.metadata.name === g))).toBe(true);
      expect(vs.spec.http.map((r: any) => [r.match[0].uri.prefix, r.route[0].destination.host])).toEqual([
        ['/api', `service-${edgeId}`],
        ['/', `service-${edgeId}`],
      ]);
      const origins = vs.spec.http[0].corsPolicy.allowOrigins;
      expect(origins).toEqual(
        config.services[edgeId]!.edge!.allowedOrigins.map((o) => (o === '*' ? { regex: '.*' } : { exact: o })),
      );
    });
  });
}

describe('deploy/kind', () => {
  const objects = kustomize('deploy/kind');

  test('MongoDB and RabbitMQ run in the cluster from official images, with all three probes and a volume claim', () => {
    for (const [name, image] of [
      ['mongodb', 'mongo:7'],
      ['rabbitmq', 'rabbitmq:3-management'],
    ] as const) {
      const set = named(objects, 'StatefulSet', name);
      const c = set.spec.template.spec.containers[0];
      expect(c.image).toBe(image);
      for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe']) expect(c[probe]).toBeDefined();
      expect(set.spec.volumeClaimTemplates[0].spec.resources.requests.storage).toBeDefined();
      expect(c.volumeMounts.map((m: any) => m.name)).toContain(set.spec.volumeClaimTemplates[0].metadata.name);
    }
  });

  test('the backends allow exactly the roles that store, publish or consume', () => {
    const edges = ofKind(objects, 'AuthorizationPolicy')
      .filter((p) => p.spec?.action === 'ALLOW')
      .flatMap((p) =>
        targetOf(p, objects)
          .filter((t) => t === 'mongodb' || t === 'rabbitmq')
          .flatMap((t) => p.spec.rules[0].from[0].source.principals.map((pr: string) => `${callerOf(pr, objects)}->${t}`)),
      );
    const expected = ids.flatMap((id) =>
      versionsOf(id).flatMap(() => [...(usesMongo(id) ? [`${id}->mongodb`] : []), ...(usesRabbit(id) ? [`${id}->rabbitmq`] : [])]),
    );
    expect(edges.sort()).toEqual(expected.sort());
  });

  test('the services run the image Tilt builds, and every secret they read is generated in this overlay', () => {
    for (const d of serviceDeployments(objects)) expect(container(d).image).toBe('greeting-mesh:dev');
    const secrets = new Set(ofKind(objects, 'Secret').map((s) => s.metadata.name));
    for (const w of workloads(objects))
      for (const e of container(w).env ?? [])
        if (e.valueFrom?.secretKeyRef) expect(secrets.has(e.valueFrom.secretKeyRef.name)).toBe(true);
  });
});

describe('deploy/gke', () => {
  const objects = kustomize('deploy/gke');

  test('a HorizontalPodAutoscaler per running version of each role, from its configured replicas up', () => {
    const hpas = ofKind(objects, 'HorizontalPodAutoscaler');
    const replicasOf = (id: string, v: string) =>
      (isDefault(id, v) ? undefined : config.services[id]!.versions![v]!.replicas) ?? config.services[id]!.replicas ?? config.defaults.replicas;
    const running = ids.flatMap((id) => versionsOf(id).filter((v) => replicasOf(id, v) > 0).map((v) => `service-${id}-${v}`));
    expect(hpas.map((h) => h.spec.scaleTargetRef.name).sort()).toEqual(running.sort());
    for (const h of hpas) {
      const d = named(objects, 'Deployment', h.spec.scaleTargetRef.name);
      expect(h.spec.minReplicas).toBe(replicasOf(roleOf(d), versionOf(d)));
      expect(h.spec.maxReplicas).toBeGreaterThan(h.spec.minReplicas);
    }
  });

  test('the backends are external: ServiceEntries, no in-cluster database, and no Secret in the manifests', () => {
    expect(ofKind(objects, 'StatefulSet')).toEqual([]);
    expect(ofKind(objects, 'Secret')).toEqual([]);
    const entries = ofKind(objects, 'ServiceEntry');
    expect(entries.length).toBeGreaterThanOrEqual(2);
    for (const e of entries) expect(e.spec.location).toBe('MESH_EXTERNAL');
    for (const d of serviceDeployments(objects))
      for (const e of envOf(d).filter((e) => e.valueFrom?.secretKeyRef))
        expect(e.valueFrom!.secretKeyRef.name).toBe('greeting-mesh-backends');
  });
});

describe('the repository', () => {
  const files = (dir: string): string[] =>
    readdirSync(dir).flatMap((name) => {
      const path = join(dir, name);
      return statSync(path).isDirectory() ? files(path) : [path];
    });

  test('only the kind overlay holds credentials, and it holds the development-only ones', () => {
    const candidates = [...files(join(ROOT, 'deploy')), join(ROOT, 'Tiltfile'), join(ROOT, 'Dockerfile')];
    const holding = candidates.filter((path) =>
      /:\/\/[^/@\s:]+:[^/@\s]+@|^\s*-?\s*password\s*[=:]/im.test(readFileSync(path, 'utf8')),
    );
    expect(holding.map((p) => relative(ROOT, p))).toEqual(['deploy/kind/kustomization.yaml']);
    const kind = readFileSync(join(ROOT, 'deploy/kind/kustomization.yaml'), 'utf8');
    expect(kind).toMatch(/secretGenerator:/);
    expect(kind).toMatch(/DEVELOPMENT-ONLY/);
    expect(candidates.some((p) => /(^|\n)kind:\s*Secret\b/.test(readFileSync(p, 'utf8')))).toBe(false);
  });
});
