/**
 * deploy/compose/compose.yaml, checked without an engine: Docker Compose itself (test/support/compose.ts) loads it the way
 * `docker compose up` would, and must refuse seeded defects; then the project as Compose resolved it is cross-checked against
 * the rendered kind overlay: every upstream and backend address resolves to a Compose service and its port, each role's
 * environment is its Deployment's (cluster-only facts mapped, Secret references turned into the user's variables, no
 * credential in the file), the hardening and the backends' images and probes match, and a role added to the config becomes a
 * Compose service with no hand edit.
 */
import { afterAll, describe, expect, test } from 'bun:test';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { loadConfig } from '../../src/config/settings';
import { composeBinary, composeConfig } from '../support/compose';
import { describeRequiring } from '../support/requirements';
import { missingTool } from '../support/tools';
import { JAEGER_VERSION } from '../support/jaeger';
import { ROOT, kustomize, named, ofKind, serviceDeployments, type K8sObject } from './manifests';

const COMPOSE = join(ROOT, 'deploy', 'compose', 'compose.yaml');
/** Placeholder credentials for interpolation, distinct so each can be traced to where it lands. */
const CREDENTIALS = {
  MONGODB_USERNAME: 'test-mongo-user',
  MONGODB_PASSWORD: 'test-mongo-pass',
  RABBITMQ_USERNAME: 'test-rabbit-user',
  RABBITMQ_PASSWORD: 'test-rabbit-pass',
};
/** Which variables stand for the keys of the credential Secrets the in-cluster-backends component reads. */
const CREDENTIAL_SECRETS: Record<string, { username: string; password: string; host: string }> = {
  'mongodb-credentials': { username: CREDENTIALS.MONGODB_USERNAME, password: CREDENTIALS.MONGODB_PASSWORD, host: 'mongodb' },
  'rabbitmq-credentials': { username: CREDENTIALS.RABBITMQ_USERNAME, password: CREDENTIALS.RABBITMQ_PASSWORD, host: 'rabbitmq' },
};

interface ComposeService {
  image: string;
  environment?: Record<string, string>;
  ports?: { host_ip?: string; target: number; published: string }[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  user?: string;
  read_only?: boolean;
  cap_drop?: string[];
  security_opt?: string[];
  tmpfs?: string[];
  stop_grace_period?: string;
  deploy?: { resources?: { limits?: { cpus?: number; memory?: string }; reservations?: { cpus?: number; memory?: string } } };
}

const scratch = mkdtempSync(join(tmpdir(), 'compose-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** The project as Docker Compose resolved it (interpolated, normalised), from a compose file. */
function resolved(file: string): { services: Record<string, ComposeService> } {
  const run = composeConfig(file, CREDENTIALS, ['--format', 'json']);
  if (run.status !== 0) throw new Error(`docker-compose config refused ${file}:\n${run.stderr}`);
  return JSON.parse(run.stdout);
}

/** A variant of the committed file, written where its relative build context still resolves. */
function variant(name: string, edit: (project: any) => void): string {
  const dir = join(scratch, name, 'deploy', 'compose');
  mkdirSync(dir, { recursive: true });
  const project = parse(readFileSync(COMPOSE, 'utf8'));
  edit(project);
  const file = join(dir, 'compose.yaml');
  writeFileSync(file, stringify(project));
  return file;
}

const kind = kustomize('deploy/kind');
const container = (o: K8sObject) => o.spec.template.spec.containers[0];
const roleOf = (d: K8sObject) => (container(d).env as { name: string; value?: string }[]).find((e) => e.name === 'ROLE')!.value!;
const { config } = loadConfig();
/** Compose runs each role's default version (the one the mesh routes to unless a scenario says otherwise), named like its Service. */
const deployments = serviceDeployments(kind).filter(
  (d) => d.spec.template.metadata.labels.version === (config.services[roleOf(d)]!.version ?? config.defaults.version),
);
const composeName = (d: K8sObject) => `service-${roleOf(d)}`;
const edge = deployments.find((d) => config.services[roleOf(d)]!.edge)!;
/** kustomize's secretGenerator appends a content hash to the name (and rewrites the references to it). */
const generatedFrom = (name: string) => name.replace(/-[a-z0-9]{10}$/, '');
const secrets = ofKind(kind, 'Secret');
const secretData = (s: K8sObject) => Object.fromEntries(Object.entries(s.data as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
const secretValue = (name: string, key: string) => secretData(secrets.find((s) => generatedFrom(s.metadata.name) === generatedFrom(name))!)[key]!;
const project = resolved(COMPOSE);
const services = project.services;
const statefulSet = (name: string) => named(kind, 'StatefulSet', name);
const hostPort = (url: string) => {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port) };
};

describeRequiring('deploy/compose/compose.yaml, loaded by Docker Compose', missingTool(composeBinary), ({ test }) => {
  test('loads cleanly: the Compose spec schema, interpolation and the project checks', () => {
    const run = composeConfig(COMPOSE, CREDENTIALS, ['--quiet']);
    expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: '' });
  });

  test('refuses to load without the credential variables, naming the one missing: no credential is written in the file', () => {
    const run = composeConfig(COMPOSE, {}, ['--quiet']);
    expect(run.status).not.toBe(0);
    expect(run.stderr).toMatch(/required variable (MONGODB|RABBITMQ)_(USERNAME|PASSWORD) is missing a value/);
    const text = readFileSync(COMPOSE, 'utf8');
    // Neither the kind overlay's development credentials (passwords, connection strings and the passwords inside them; its user
    // name is the project's name, which the file rightly contains) nor RabbitMQ's built-in guest account.
    const values = secrets.flatMap((s) => Object.entries(secretData(s)).flatMap(([key, value]) => (key === 'username' ? [] : [value])));
    const passwords = values.flatMap((v) => (/^[a-z]+:\/\//.test(v) ? [decodeURIComponent(new URL(v).password)] : []));
    expect([...values, ...passwords, 'guest'].filter((w) => w && text.includes(w))).toEqual([]);
  });

  test('fails on seeded defects: an unknown key, and a depends_on naming a service that does not exist', () => {
    const unknownKey = composeConfig(variant('unknown-key', (p) => (p.services['service-b'].restart_policy = 'always')), CREDENTIALS, ['--quiet']);
    expect(unknownKey.status).not.toBe(0);
    expect(unknownKey.stderr).toContain("services.service-b additional properties 'restart_policy' not allowed");
    const missing = composeConfig(variant('missing-dependency', (p) => (p.services['service-b'].depends_on['service-x'] = { condition: 'service_started' })), CREDENTIALS, ['--quiet']);
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toContain('service "service-b" depends on undefined service "service-x"');
  });
});

describe('deploy/compose/compose.yaml against the rendered manifests', () => {
  test('the eight roles from the one image the Deployments run, the backends at the component\'s images, Jaeger as the tests run it', () => {
    const roles = deployments.map((d) => composeName(d)).sort();
    expect(Object.keys(services).sort()).toEqual([...roles, 'jaeger', 'mongodb', 'rabbitmq'].sort());
    for (const d of deployments) expect({ role: composeName(d), image: services[composeName(d)]!.image }).toEqual({ role: composeName(d), image: container(d).image.split(':')[0] });
    expect(services.mongodb!.image).toBe(container(statefulSet('mongodb')).image);
    expect(services.rabbitmq!.image).toBe(container(statefulSet('rabbitmq')).image);
    expect(services.jaeger!.image).toBe(`jaegertracing/jaeger:${JAEGER_VERSION.replace(/^v/, '')}`);
  });

  test('every SERVICE_<X>_URL and every backend address resolves to a Compose service and the port it listens on', () => {
    const byRole = new Map(deployments.map((d) => [roleOf(d), composeName(d)]));
    const k8sPort = (name: string) => (named(kind, 'Service', name).spec.ports as { port: number }[]).map((p) => p.port);
    const problems: string[] = [];
    for (const [name, service] of Object.entries(services)) {
      for (const [key, value] of Object.entries(service.environment ?? {})) {
        const upstream = /^SERVICE_([A-Z0-9]+)_URL$/.exec(key)?.[1]?.toLowerCase();
        if (upstream) {
          const { host, port } = hostPort(value);
          const target = services[host];
          if (host !== byRole.get(upstream) || !target || Number(target.environment?.PORT) !== port) problems.push(`${name}: ${key}=${value}`);
        } else if (key === 'MONGO_CONN' || key === 'RABBITMQ_CONN') {
          const { host, port } = hostPort(value);
          if (!services[host] || !k8sPort(host).includes(port)) problems.push(`${name}: ${key} names ${host}:${port}`);
        } else if (key === 'ZIPKIN_URL') {
          const { host, port } = hostPort(value);
          if (host !== 'jaeger') problems.push(`${name}: ${key}=${value}`);
          // The all-in-one's own Zipkin port, the same as the add-on's in the cluster.
          const cluster = hostPort(container(deployments.find((d) => composeName(d) === name)!).env.find((e: any) => e.name === key).value);
          if (port !== cluster.port) problems.push(`${name}: ${key} port ${port}, the collector's is ${cluster.port}`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  test("each role's environment is exactly its Deployment's: same names, same literals, Secrets as the user's variables", () => {
    for (const d of deployments) {
      const labels: Record<string, string> = d.spec.template.metadata.labels;
      const expected: Record<string, string> = {};
      for (const e of container(d).env as { name: string; value?: string; valueFrom?: any }[]) {
        if (e.name === 'ZIPKIN_URL') {
          const { port } = hostPort(e.value!);
          expected[e.name] = `http://jaeger:${port}${new URL(e.value!).pathname}`;
        } else if (e.value !== undefined) expected[e.name] = e.value;
        else if (e.valueFrom.fieldRef) expected[e.name] = labels[/^metadata\.labels\['(.+)'\]$/.exec(e.valueFrom.fieldRef.fieldPath)![1]!]!;
        else {
          // The kind overlay's own connection string, with its development credentials replaced by the user's.
          const { name, key } = e.valueFrom.secretKeyRef;
          const kindUrl = new URL(secretValue(name, key));
          const [secret, creds] = Object.entries(CREDENTIAL_SECRETS).find(([, c]) => c.host === kindUrl.hostname)!;
          // The overlay's connection string and its credential Secret agree, so replacing one pair is the whole translation.
          expect(decodeURIComponent(kindUrl.username)).toBe(secretValue(secret, 'username'));
          kindUrl.username = creds.username;
          kindUrl.password = creds.password;
          expected[e.name] = kindUrl.toString();
        }
      }
      const actual = { ...services[composeName(d)]!.environment };
      for (const k of ['MONGO_CONN', 'RABBITMQ_CONN']) if (actual[k]) actual[k] = new URL(actual[k]!).toString();
      expect({ role: composeName(d), env: actual }).toEqual({ role: composeName(d), env: expected });
    }
  });

  test("the backends' own credentials come from the same variables, under the names their StatefulSets use", () => {
    for (const name of ['mongodb', 'rabbitmq']) {
      const expected = Object.fromEntries(
        (container(statefulSet(name)).env as { name: string; valueFrom: any }[]).map((e) => {
          const { name: secret, key } = e.valueFrom.secretKeyRef;
          return [e.name, CREDENTIAL_SECRETS[generatedFrom(secret)]![key as 'username' | 'password']];
        }),
      );
      expect({ name, env: services[name]!.environment }).toEqual({ name, env: expected });
    }
  });

  test('hardened as the Deployments are: numeric non-root user, read-only root, no capabilities, no privilege gain, same limits', () => {
    const cpus = (q: string) => (q.endsWith('m') ? Number(q.slice(0, -1)) / 1000 : Number(q));
    const bytes = (q: string) => String(Number(q.replace(/Mi$/, '')) * 2 ** 20);
    for (const d of deployments) {
      const c = container(d);
      const sc = c.securityContext;
      const pod = d.spec.template.spec;
      const tmp = (c.volumeMounts as { name: string; mountPath: string }[]).find((m) => m.mountPath === '/tmp');
      const s = services[composeName(d)]!;
      expect({
        role: composeName(d),
        user: s.user,
        readOnly: s.read_only,
        capDrop: s.cap_drop,
        noNewPrivileges: s.security_opt?.includes('no-new-privileges:true'),
        tmpInMemory: s.tmpfs?.some((t) => t.split(':')[0] === '/tmp'),
        stopGrace: s.stop_grace_period,
        limits: s.deploy?.resources?.limits,
        reservations: s.deploy?.resources?.reservations,
      }).toEqual({
        role: composeName(d),
        user: `${sc.runAsUser}:${sc.runAsGroup}`,
        readOnly: sc.readOnlyRootFilesystem,
        capDrop: sc.capabilities.drop,
        noNewPrivileges: sc.allowPrivilegeEscalation === false,
        tmpInMemory: pod.volumes.some((v: any) => v.name === tmp?.name && v.emptyDir?.medium === 'Memory'),
        stopGrace: `${pod.terminationGracePeriodSeconds}s`,
        limits: { cpus: cpus(c.resources.limits.cpu), memory: bytes(c.resources.limits.memory) },
        reservations: { cpus: cpus(c.resources.requests.cpu), memory: bytes(c.resources.requests.memory) },
      });
    }
    for (const name of ['mongodb', 'rabbitmq']) {
      const sc = statefulSet(name).spec.template.spec.securityContext;
      expect({ name, user: services[name]!.user, capDrop: services[name]!.cap_drop }).toEqual({ name, user: `${sc.runAsUser}:${sc.runAsGroup}`, capDrop: ['ALL'] });
    }
  });

  test('only the edge, the Jaeger UI and RabbitMQ management are published, and only on loopback', () => {
    const published = Object.entries(services).flatMap(([name, s]) => (s.ports ?? []).map((p) => `${name} ${p.host_ip}:${p.published}->${p.target}`));
    const management = (named(kind, 'Service', 'rabbitmq').spec.ports as { name: string; port: number }[]).find((p) => p.name === 'http-management')!.port;
    const a = container(edge).ports[0].containerPort;
    expect(published.sort()).toEqual([`jaeger 127.0.0.1:16686->16686`, `rabbitmq 127.0.0.1:${management}->${management}`, `service-a 127.0.0.1:${a}->${a}`].sort());
  });

  test("start order: a role waits for its upstreams to start and its backends to be healthy; the backends probe as their StatefulSets' startup probes do", () => {
    for (const d of deployments) {
      const env = container(d).env as { name: string; value?: string }[];
      const want: Record<string, string> = { jaeger: 'service_started' };
      for (const e of env) if (/^SERVICE_[A-Z0-9]+_URL$/.test(e.name)) want[new URL(e.value!).hostname] = 'service_started';
      if (env.some((e) => e.name === 'MONGO_CONN')) want.mongodb = 'service_healthy';
      if (env.some((e) => e.name === 'RABBITMQ_CONN')) want.rabbitmq = 'service_healthy';
      const got = Object.fromEntries(Object.entries(services[composeName(d)]!.depends_on ?? {}).map(([k, v]) => [k, v.condition]));
      expect({ role: composeName(d), dependsOn: got }).toEqual({ role: composeName(d), dependsOn: want });
      expect(services[composeName(d)]!.healthcheck).toBeUndefined();
    }
    for (const name of ['mongodb', 'rabbitmq'])
      expect({ name, test: services[name]!.healthcheck?.test }).toEqual({ name, test: ['CMD', ...container(statefulSet(name)).startupProbe.exec.command] });
  });

  test('a role added to a copy of the config becomes a Compose service that its caller reaches, and the file still loads', () => {
    const root = join(scratch, 'new-role');
    const raw = JSON.parse(readFileSync(join(ROOT, 'config/services.json'), 'utf8'));
    raw.services.c.upstreams = ['i'];
    raw.services.i = { name: 'Service I', greeting: 'Hej, from Service I!', port: 8088 };
    const configFile = join(scratch, 'services-with-i.json');
    writeFileSync(configFile, JSON.stringify(raw));
    const render = spawnSync(process.execPath, [join(ROOT, 'scripts/render/main.ts'), '--config', configFile, '--out', root], { encoding: 'utf8' });
    expect(render.status).toBe(0);
    const grown = resolved(join(root, 'deploy', 'compose', 'compose.yaml')).services;
    expect(Object.keys(grown).filter((s) => !(s in services))).toEqual(['service-i']);
    expect(grown['service-i']!.environment?.ROLE).toBe('i');
    expect(grown['service-c']!.environment?.SERVICE_I_URL).toBe('http://service-i:8080');
    expect(grown['service-c']!.depends_on?.['service-i']?.condition).toBe('service_started');
  });
});
