/**
 * The rendered kind overlay, run: every Deployment's container becomes a process of the real binary with exactly the env the
 * manifest gives it. Cluster DNS names become localhost ports (the one thing a laptop cannot do), the Zipkin collector of the
 * Istio add-ons becomes a local Jaeger all-in-one (the add-on is Jaeger too), the downward-API label is read from the pod template, and the Secret references are
 * left out, so the roles use their in-memory backends. So the manifests' own wiring, not a second copy of it, must produce A's
 * whole answer and its trace, pass its own probes, and shut down within its own grace period.
 */
import { expect } from 'bun:test';
import { spawn, type ChildProcess } from 'node:child_process';
import { loadConfig } from '../../src/config/settings';
import { freePort } from '../../src/platform/processes';
import { serviceBinary } from '../../scripts/artifacts';
import { jaegerBinary, startJaeger, type Jaeger } from '../support/jaeger';
import { kustomize, matches, ofKind, serviceDeployments, type K8sObject } from './manifests';
import { describeRequiring } from '../support/requirements';
import { missingTool } from '../support/tools';

const { config } = loadConfig();
const objects = kustomize('deploy/kind');
const deployments = serviceDeployments(objects);
const services = ofKind(objects, 'Service');

interface Pod {
  deployment: K8sObject;
  role: string;
  version: string;
  port: number;
  env: Record<string, string>;
  secretRefs: string[];
  process?: ChildProcess;
  output: string;
  exit?: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Where the add-ons' collector is in the cluster; the env must name exactly this, or the spans go nowhere. */
const CLUSTER_ZIPKIN = { host: 'zipkin.istio-system', port: '9411', path: '/api/v2/spans' };

let jaeger: Jaeger;
const container = (d: K8sObject) => d.spec.template.spec.containers[0];
const serviceFor = (d: K8sObject) => services.find((s) => matches(s.spec.selector, d.spec.template.metadata.labels))!;
const versionOf = (d: K8sObject) => d.spec.template.metadata.labels.version as string;
/** The version the mesh sends a Service's traffic to: the subset its role's VirtualService routes to as shipped. */
const routedVersion = (service: K8sObject) =>
  ofKind(objects, 'VirtualService').find((vs) => vs.metadata.name === service.metadata.name)!.spec.http[0].route[0].destination.subset as string;

/** What the kubelet would put in the container's environment, with cluster addresses mapped to local ports. */
function podEnv(d: K8sObject, localPort: Map<string, number>): { env: Record<string, string>; secretRefs: string[] } {
  const labels: Record<string, string> = d.spec.template.metadata.labels;
  const env: Record<string, string> = { HOSTNAME: `${d.metadata.name}-0`, PATH: process.env.PATH ?? '/usr/bin:/bin' };
  const secretRefs: string[] = [];
  for (const e of container(d).env as { name: string; value?: string; valueFrom?: any }[]) {
    if (e.value !== undefined) env[e.name] = e.value;
    else if (e.valueFrom?.secretKeyRef) secretRefs.push(e.name);
    else {
      const label = /^metadata\.labels\['(.+)'\]$/.exec(e.valueFrom?.fieldRef?.fieldPath ?? '');
      if (!label) throw new Error(`${d.metadata.name}: cannot emulate env ${e.name}: ${JSON.stringify(e.valueFrom)}`);
      env[e.name] = labels[label[1]!]!;
    }
  }
  if (env.ZIPKIN_URL !== undefined) {
    const url = new URL(env.ZIPKIN_URL);
    if (url.hostname !== CLUSTER_ZIPKIN.host || url.port !== CLUSTER_ZIPKIN.port || url.pathname !== CLUSTER_ZIPKIN.path)
      throw new Error(`${d.metadata.name}: ZIPKIN_URL=${env.ZIPKIN_URL} is not the add-ons' collector`);
    env.ZIPKIN_URL = jaeger.exporterEnv('zipkin').ZIPKIN_URL!;
  }
  for (const [name, value] of Object.entries(env)) {
    if (!/^SERVICE_[A-Z0-9]+_URL$/.test(name)) continue;
    const url = new URL(value);
    const service = services.find((s) => s.metadata.name === url.hostname.split('.')[0])!;
    if (!service || !service.spec.ports.some((p: any) => p.port === Number(url.port)))
      throw new Error(`${d.metadata.name}: ${name}=${value} names no Service port`);
    env[name] = `http://127.0.0.1:${localPort.get(service.metadata.name)}`;
  }
  return { env, secretRefs };
}

/** A's answer as the config defines it: each role's upstreams' answers in order, then its own greeting. */
function expectedAnswer(id: string): { service: string; message: string }[] {
  const role = config.services[id]!;
  return [...role.upstreams.flatMap(expectedAnswer), { service: role.name, message: role.greeting }];
}

async function waitFor(url: string, budgetMs: number, pod: Pod): Promise<void> {
  const deadline = Date.now() + budgetMs;
  for (;;) {
    try {
      if ((await fetch(url)).status === 200) return;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) throw new Error(`${url} not ready within ${budgetMs} ms; output:\n${pod.output}`);
    await Bun.sleep(50);
  }
}

const pods: Pod[] = [];

describeRequiring('the rendered manifests, run as processes', missingTool(jaegerBinary), ({ afterAll, beforeAll, describe, test }) => {
  beforeAll(async () => {
    jaeger = await startJaeger();
    const binary = serviceBinary();
    // A Service's port is the pod of the version the mesh routes it to; every other version's pod gets a port of its own.
    const localPort = new Map<string, number>();
    for (const s of services) localPort.set(s.metadata.name, await freePort());
    for (const d of deployments) {
      const { env, secretRefs } = podEnv(d, localPort);
      const httpPort = container(d).ports.find((p: any) => p.name === 'http').containerPort;
      if (Number(env.PORT) !== httpPort) throw new Error(`${d.metadata.name}: PORT ${env.PORT} is not the container port ${httpPort}`);
      const service = serviceFor(d);
      const port = routedVersion(service) === versionOf(d) ? localPort.get(service.metadata.name)! : await freePort();
      env.PORT = String(port);
      pods.push({ deployment: d, role: env.ROLE!, version: versionOf(d), port, env, secretRefs, output: '' });
    }
    for (const pod of pods) {
      const child = spawn(binary, [], { env: pod.env, stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout!.on('data', (chunk) => (pod.output += chunk));
      child.stderr!.on('data', (chunk) => (pod.output += chunk));
      pod.exit = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
      pod.process = child;
    }
    // The manifest's own start-up budget: what the startupProbe allows before the kubelet would restart the container.
    await Promise.all(
      pods.map((pod) => {
        const startup = container(pod.deployment).startupProbe;
        return waitFor(`http://127.0.0.1:${pod.port}${startup.httpGet.path}`, startup.periodSeconds * startup.failureThreshold * 1000, pod);
      }),
    );
  }, 60_000);

  afterAll(async () => {
    for (const pod of pods) if (pod.process?.exitCode === null) pod.process.kill('SIGKILL');
    await jaeger?.stop();
  });

  describe('the kind overlay, run as processes with its own env', () => {
    test('only the backends\' connection strings were left out (in-memory instead)', () => {
      const left = pods.flatMap((p) => p.secretRefs.map((name) => `${p.role}-${p.version}:${name}`)).sort();
      const expected = pods.flatMap(({ role: id, version }) => {
        const r = config.services[id]!;
        return [
          ...(r.store || r.consume ? [`${id}-${version}:MONGO_CONN`] : []),
          ...(r.publish || r.consume ? [`${id}-${version}:RABBITMQ_CONN`] : []),
        ];
      });
      expect(new Set(pods.map((p) => p.role))).toEqual(new Set(Object.keys(config.services)));
      expect(left).toEqual(expected.sort());
    });

    test('every pod passes its own startup, liveness and readiness probes, and serves its scrape path', async () => {
      for (const pod of pods) {
        const c = container(pod.deployment);
        for (const probe of [c.startupProbe, c.livenessProbe, c.readinessProbe]) {
          const response = await fetch(`http://127.0.0.1:${pod.port}${probe.httpGet.path}`);
          expect({ role: pod.role, path: probe.httpGet.path, status: response.status }).toEqual({
            role: pod.role,
            path: probe.httpGet.path,
            status: 200,
          });
        }
        const path = pod.deployment.spec.template.metadata.annotations['prometheus.io/path'];
        const metrics = await fetch(`http://127.0.0.1:${pod.port}${path}`);
        expect(metrics.status).toBe(200);
        expect(await metrics.text()).toMatch(/^# (HELP|TYPE) /m);
      }
    });

    test('every version\'s pod answers as that version (its label, through SERVICE_VERSION), with that version\'s greeting', async () => {
      for (const pod of pods) {
        const body = (await (await fetch(`http://127.0.0.1:${pod.port}/api/greeting`)).json()) as { service: string; message: string; version: string }[];
        const role = config.services[pod.role]!;
        const greeting = role.versions?.[pod.version]?.greeting ?? role.greeting;
        expect({ pod: pod.deployment.metadata.name, own: body.at(-1) }).toMatchObject({ pod: pod.deployment.metadata.name, own: { service: role.name, version: pod.version, message: greeting } });
      }
      expect(pods.some((p) => p.version !== routedVersion(serviceFor(p.deployment)))).toBe(true);
    });

    test('A answers the whole call graph: D, G, H, E, B, C, A, each with its configured greeting', async () => {
      const edge = Object.keys(config.services).find((id) => config.services[id]!.edge)!;
      const a = pods.find((p) => p.role === edge && p.version === routedVersion(serviceFor(p.deployment)))!;
      const response = await fetch(`http://127.0.0.1:${a.port}/api/greeting`);
      const body = (await response.json()) as { id: string; service: string; message: string }[];
      expect(response.status).toBe(200);
      expect(body.map(({ service, message }) => ({ service, message }))).toEqual(expectedAnswer(edge));
      expect(body.map((g) => g.service)).toEqual([
        'Service D',
        'Service G',
        'Service H',
        'Service E',
        'Service B',
        'Service C',
        'Service A',
      ]);
      expect(body.every((g) => typeof g.id === 'string' && g.id.length > 0)).toBe(true);
    });

    test('on SIGTERM every pod exits 0 within its terminationGracePeriodSeconds, having sent its spans to the collector', async () => {
      const started = Date.now();
      for (const pod of pods) pod.process!.kill('SIGTERM');
      const exits = await Promise.all(
        pods.map(async (pod) => {
          const graceMs = pod.deployment.spec.template.spec.terminationGracePeriodSeconds * 1000;
          const exit = await Promise.race([pod.exit!, Bun.sleep(graceMs).then(() => ({ code: 'SIGKILL', signal: null }))]);
          return { role: pod.role, code: exit.code, withinGrace: Date.now() - started < graceMs };
        }),
      );
      expect(exits).toEqual(pods.map((p) => ({ role: p.role, code: 0, withinGrace: true })));
      expect(pods.length).toBe(deployments.length);
      // Every role on the HTTP call graph reported spans of one and the same trace (F only consumes, from a queue that, in
      // memory, is not D's). The batches are flushed on shutdown at the latest, so they were all sent by now; the short wait
      // covers only Jaeger's own path from its receiver to its store.
      const edge = Object.keys(config.services).find((id) => config.services[id]!.edge)!;
      const onPath = [edge, ...Object.values(config.services).flatMap((r) => r.upstreams)].map((id) => `service-${id}`);
      const servicesOf = (trace: { spans: { processID: string }[]; processes: Record<string, { serviceName: string }> }) =>
        new Set(trace.spans.map((span) => trace.processes[span.processID]?.serviceName));
      let byTrace: Set<string | undefined>[] = [];
      for (const deadline = Date.now() + 2_000; ; await Bun.sleep(100)) {
        byTrace = (await jaeger.findTraces(`service-${edge}`)).map(servicesOf);
        if (byTrace.some((services) => onPath.every((s) => services.has(s))) || Date.now() > deadline) break;
      }
      const whole = byTrace.find((services) => onPath.every((s) => services.has(s)));
      expect({ trace: whole ? 'spans from every role on the path' : byTrace.map((s) => [...s]) }).toEqual({
        trace: 'spans from every role on the path',
      });
    }, 60_000);
  });
});
