/**
 * The Compose stack for a laptop with only Docker (the original platform shipped a Swarm stack for this): the eight roles from
 * the one image, MongoDB, RabbitMQ and Jaeger. Each role gets exactly the environment its rendered Deployment gives it
 * (roleEnv), translated only where a cluster fact has no Compose twin: the Istio add-on's collector becomes the `jaeger`
 * service, the downward-API label becomes its value, and Secret references become variables the user sets in
 * deploy/compose/.env, so no credential is ever written here. Upstream URLs need no translation: the Compose services carry
 * the workload names and listen on the pods' port.
 */
import type { IIoK8sApiCoreV1EnvVar as EnvVar } from 'kubernetes-models/v1/EnvVar';
import type { PlatformConfig } from '../../src/config/schema';
import {
  BACKENDS_SECRET,
  HTTP_PORT,
  IMAGE,
  MONGO_SECRET_KEY,
  MONGODB,
  RABBITMQ,
  RABBITMQ_SECRET_KEY,
  RUN_AS_USER,
  workloadName,
  ZIPKIN_URL,
} from './layout';
import { edgeRole } from './mesh';
import { GRACE_MARGIN_SECONDS, podLabels, roleEnv, shutdownSeconds, usesMongo, usesRabbitmq } from './workloads';

export const COMPOSE_FILE = 'deploy/compose/compose.yaml';
export const COMPOSE_ENV_EXAMPLE = 'deploy/compose/env.example';

/**
 * Images of the backing services: the tags the in-cluster-backends component runs, and the Jaeger the tests run. That is
 * Jaeger v2's image (`cmd/jaeger`, all-in-one by default); `jaegertracing/all-in-one` is v1's, another program.
 */
export const COMPOSE_IMAGES = { mongodb: 'mongo:7', rabbitmq: 'rabbitmq:3-management', jaeger: 'jaegertracing/jaeger:2.13.0' } as const;

export const JAEGER = { name: 'jaeger', zipkinPort: 9411, uiPort: 16686 } as const;
export const RABBITMQ_MANAGEMENT_PORT = 15672;
/** The user the mongo and rabbitmq images run as, as in the in-cluster-backends StatefulSets. */
const BACKEND_USER = 999;
const SCRATCH_SIZE = '16m';

/** The variables the file reads its credentials from: one per key of the Secrets the manifests reference. */
export const CREDENTIAL_VARIABLES = ['MONGODB_USERNAME', 'MONGODB_PASSWORD', 'RABBITMQ_USERNAME', 'RABBITMQ_PASSWORD'] as const;
type Credential = (typeof CREDENTIAL_VARIABLES)[number];

/** `${NAME:?...}`: Compose refuses to start, naming the variable, when it is unset or empty. */
const variable = (name: Credential) => `\${${name}:?see deploy/compose/README.md}`;

/** What each Secret key the manifests reference becomes: the same connection strings, built from the credential variables. */
export const SECRET_VALUES: Record<string, string> = {
  [`${BACKENDS_SECRET}/${MONGO_SECRET_KEY}`]: `mongodb://${variable('MONGODB_USERNAME')}:${variable('MONGODB_PASSWORD')}@${MONGODB.name}:${MONGODB.port}/?authSource=admin`,
  [`${BACKENDS_SECRET}/${RABBITMQ_SECRET_KEY}`]: `amqp://${variable('RABBITMQ_USERNAME')}:${variable('RABBITMQ_PASSWORD')}@${RABBITMQ.name}:${RABBITMQ.port}/`,
};

/** Where the spans go: the Zipkin receiver of the `jaeger` service, in place of the add-on's in the cluster. */
export const COMPOSE_ZIPKIN_URL = `http://${JAEGER.name}:${JAEGER.zipkinPort}/api/v2/spans`;

/** A literal env value as Compose must read it: `$` would start an interpolation. */
const literal = (value: string) => value.replaceAll('$', '$$$$');

export function composeEnv(config: PlatformConfig, id: string): Record<string, string> {
  const labels = podLabels(config, id);
  const env: Record<string, string> = {};
  for (const e of roleEnv(config, id) as EnvVar[]) {
    if (e.value !== undefined) {
      env[e.name] = e.name === 'ZIPKIN_URL' && e.value === ZIPKIN_URL ? COMPOSE_ZIPKIN_URL : literal(e.value);
      continue;
    }
    const label = /^metadata\.labels\['(.+)'\]$/.exec(e.valueFrom?.fieldRef?.fieldPath ?? '')?.[1];
    const secret = e.valueFrom?.secretKeyRef;
    if (label !== undefined && labels[label] !== undefined) env[e.name] = literal(labels[label]!);
    else if (secret && SECRET_VALUES[`${secret.name}/${secret.key}`]) env[e.name] = SECRET_VALUES[`${secret.name}/${secret.key}`]!;
    // A new kind of env in the manifests must be taught here, not silently dropped.
    else throw new Error(`compose: no Compose equivalent for env ${e.name} of role ${id}: ${JSON.stringify(e.valueFrom)}`);
  }
  return env;
}

/** Kubernetes CPU quantity ('500m', '1', '0.5') as Compose's number of CPUs. */
export function composeCpus(quantity: string): number {
  const m = /^([0-9]+(?:\.[0-9]+)?)(m?)$/.exec(quantity);
  if (!m) throw new Error(`compose: CPU quantity '${quantity}' has no Compose equivalent`);
  return m[2] === 'm' ? Number(m[1]) / 1000 : Number(m[1]);
}

/** Kubernetes memory quantity ('256Mi', '1G') as a byte count, a string as Compose wants it and free of unit ambiguity. */
export function composeBytes(quantity: string): string {
  const m = /^([0-9]+(?:\.[0-9]+)?)(Ki|Mi|Gi|k|M|G)?$/.exec(quantity);
  if (!m) throw new Error(`compose: memory quantity '${quantity}' has no Compose equivalent`);
  const factor = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, k: 1e3, M: 1e6, G: 1e9 }[m[2] ?? ''] ?? 1;
  return String(Math.round(Number(m[1]) * factor));
}

/** What the hardened Deployments set: read-only root, numeric non-root user, no capabilities, no privilege gain. */
function hardened(user: number) {
  return { user: `${user}:${user}`, read_only: true, cap_drop: ['ALL'], security_opt: ['no-new-privileges:true'] };
}

function role(config: PlatformConfig, id: string): object {
  const r = config.services[id]!;
  const resources = r.resources ?? config.defaults.resources;
  // The image has no shell and no HTTP client, so Compose cannot probe a role: upstreams are waited for as started only.
  const dependsOn: Record<string, { condition: string }> = Object.fromEntries(
    r.upstreams.map((up) => [workloadName(up), { condition: 'service_started' }]),
  );
  if (usesMongo(config, id)) dependsOn[MONGODB.name] = { condition: 'service_healthy' };
  if (usesRabbitmq(config, id)) dependsOn[RABBITMQ.name] = { condition: 'service_healthy' };
  dependsOn[JAEGER.name] = { condition: 'service_started' };
  return {
    image: IMAGE,
    build: { context: '../..', target: 'runtime' },
    environment: composeEnv(config, id),
    ...(r.edge ? { ports: [`127.0.0.1:${HTTP_PORT}:${HTTP_PORT}`] } : {}),
    depends_on: dependsOn,
    ...hardened(RUN_AS_USER),
    // The Deployment's in-memory scratch directory.
    tmpfs: [`/tmp:size=${SCRATCH_SIZE}`],
    // The pod's terminationGracePeriodSeconds: the drain delay and the in-flight budget, plus the margin.
    stop_grace_period: `${shutdownSeconds(config) + GRACE_MARGIN_SECONDS}s`,
    restart: 'unless-stopped',
    deploy: {
      resources: {
        limits: { cpus: composeCpus(resources.limits.cpu), memory: composeBytes(resources.limits.memory) },
        reservations: { cpus: composeCpus(resources.requests.cpu), memory: composeBytes(resources.requests.memory) },
      },
    },
  };
}

function backends(): Record<string, object> {
  const backendHardening = { user: `${BACKEND_USER}:${BACKEND_USER}`, cap_drop: ['ALL'], security_opt: ['no-new-privileges:true'] };
  return {
    [MONGODB.name]: {
      image: COMPOSE_IMAGES.mongodb,
      environment: { MONGO_INITDB_ROOT_USERNAME: variable('MONGODB_USERNAME'), MONGO_INITDB_ROOT_PASSWORD: variable('MONGODB_PASSWORD') },
      // The StatefulSet's startup probe: `ping` needs no authentication.
      healthcheck: { test: ['CMD', 'mongosh', '--quiet', '--norc', '--eval', "db.adminCommand('ping').ok"], interval: '5s', timeout: '5s', retries: 24 },
      volumes: [`${MONGODB.name}-data:/data/db`],
      ...backendHardening,
      restart: 'unless-stopped',
    },
    [RABBITMQ.name]: {
      image: COMPOSE_IMAGES.rabbitmq,
      // The node's name comes from the hostname; a fixed one keeps the data on the volume the node's own across re-creation.
      hostname: RABBITMQ.name,
      environment: { RABBITMQ_DEFAULT_USER: variable('RABBITMQ_USERNAME'), RABBITMQ_DEFAULT_PASS: variable('RABBITMQ_PASSWORD') },
      healthcheck: { test: ['CMD', 'rabbitmq-diagnostics', '-q', 'ping'], interval: '5s', timeout: '10s', retries: 24 },
      ports: [`127.0.0.1:${RABBITMQ_MANAGEMENT_PORT}:${RABBITMQ_MANAGEMENT_PORT}`],
      volumes: [`${RABBITMQ.name}-data:/var/lib/rabbitmq`],
      ...backendHardening,
      restart: 'unless-stopped',
    },
    // The image's own configuration: the all-in-one with in-memory storage, Zipkin on 9411, the UI on 16686. It runs as its
    // own non-root user and writes only to /tmp.
    [JAEGER.name]: {
      image: COMPOSE_IMAGES.jaeger,
      ports: [`127.0.0.1:${JAEGER.uiPort}:${JAEGER.uiPort}`],
      read_only: true,
      tmpfs: ['/tmp'],
      cap_drop: ['ALL'],
      security_opt: ['no-new-privileges:true'],
      restart: 'unless-stopped',
    },
  };
}

export function composeProject(config: PlatformConfig): object {
  const roles = Object.fromEntries(Object.keys(config.services).map((id) => [workloadName(id), role(config, id)]));
  return {
    name: 'greeting-mesh',
    services: { ...roles, ...backends() },
    volumes: { [`${MONGODB.name}-data`]: {}, [`${RABBITMQ.name}-data`]: {} },
  };
}

/** The example of deploy/compose/.env: every variable the file needs, with no value, so nobody runs on a shared default. */
export function composeEnvExample(config: PlatformConfig): string {
  const edge = workloadName(edgeRole(config));
  return [
    '# Generated by scripts/render/main.ts (`npm run render`). Copy to deploy/compose/.env (git-ignored) and choose values:',
    '# Compose reads .env from the compose file\'s directory. Use URL-safe characters: the values go into connection strings.',
    `# ${edge} answers on http://127.0.0.1:${HTTP_PORT}/, Jaeger on http://127.0.0.1:${JAEGER.uiPort}/, RabbitMQ's management on http://127.0.0.1:${RABBITMQ_MANAGEMENT_PORT}/.`,
    ...CREDENTIAL_VARIABLES.map((name) => `${name}=`),
    '',
  ].join('\n');
}
