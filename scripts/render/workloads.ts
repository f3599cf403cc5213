/**
 * The Kubernetes objects of one role: its one Service, and per version a Deployment (with exactly the environment that role
 * needs and nothing it does not), its PodDisruptionBudget and its ServiceAccount (its mesh identity; the default version's is
 * the role's own).
 */
import type { IServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import type { IService } from 'kubernetes-models/v1/Service';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IPodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import type { IIoK8sApiCoreV1EnvVar as EnvVar } from 'kubernetes-models/v1/EnvVar';
import type { IIoK8sApiCoreV1Probe as Probe } from 'kubernetes-models/v1/Probe';
import { VARIABLES } from '../../src/config/env';
import {
  backendNeeds,
  deploymentName,
  edgeTransport,
  identityName,
  roleReplicas,
  roleVersion,
  roleVersions,
  servesGrpc,
  versionFacts,
} from '../../src/config/facts';
import type { PlatformConfig, Transport } from '../../src/config/schema';
import {
  BACKENDS_SECRET,
  COMPONENT_LABEL,
  GRPC_PORT,
  GRPC_PORT_NAME,
  HTTP_PORT,
  HTTP_PORT_NAME,
  IMAGE,
  MONGO_SECRET_KEY,
  PATHS,
  PINNED_IMAGE,
  RABBITMQ_SECRET_KEY,
  RUN_AS_USER,
  upstreamEnvName,
  upstreamUrl,
  workloadName,
  ZIPKIN_URL,
} from './layout';

/** Seconds the pod gets past the app's own drain and shutdown budget, for the process to exit and the kubelet to notice. */
export const GRACE_MARGIN_SECONDS = 5;

export { deploymentName, identityName, roleReplicas, roleVersion, roleVersions };

export function usesMongo(config: PlatformConfig, id: string): boolean {
  return backendNeeds(config.services[id]!).store;
}

export function usesRabbitmq(config: PlatformConfig, id: string): boolean {
  return backendNeeds(config.services[id]!).queue;
}

export function podLabels(config: PlatformConfig, id: string, version = roleVersion(config, id)): Record<string, string> {
  return { app: workloadName(id), version, component: COMPONENT_LABEL };
}

/** What the role's Service selects: not the version, so every version's pods are behind the one Service. */
export function selectorLabels(id: string): Record<string, string> {
  return { app: workloadName(id), component: COMPONENT_LABEL };
}

/**
 * What one version's Deployment and PodDisruptionBudget select: the version too, so no pod is ever claimed by two Deployments
 * (an autoscaler reads its target's selector: without the version, v1's would average v2's pods in) or covered by two
 * budgets (the eviction API refuses to evict such a pod at all).
 */
export function versionSelectorLabels(id: string, version: string): Record<string, string> {
  return { ...selectorLabels(id), version };
}

/** The deadline a role sets itself on SIGTERM: the drain delay plus the in-flight budget (GRACE_MARGIN_SECONDS goes on top). */
export function shutdownSeconds(config: PlatformConfig): number {
  return Math.ceil((config.defaults.drainDelayMs + config.defaults.shutdownTimeoutMs) / 1000);
}

/**
 * The role's Service, then per version (the default first) its ServiceAccount, Deployment and PodDisruptionBudget.
 * `everyHop`: render as if every call went over this transport (the grpc-transport component's objects).
 */
export function roleObjects(config: PlatformConfig, id: string, everyHop?: Transport): (IServiceAccount | IService | IDeployment | IPodDisruptionBudget)[] {
  return [
    service(id, servesGrpc(config, id, everyHop)),
    ...roleVersions(config, id).flatMap((version) => [
      serviceAccount(config, id, version),
      deployment(config, id, version, everyHop),
      disruptionBudget(id, version),
    ]),
  ];
}

function serviceAccount(config: PlatformConfig, id: string, version: string): IServiceAccount {
  return {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: { name: identityName(config, id, version), labels: versionSelectorLabels(id, version) },
    // The app never calls the Kubernetes API; Istio mounts its own token for the sidecar.
    automountServiceAccountToken: false,
  };
}

/** A role called over gRPC has a second port, named and typed so Istio treats it as gRPC (HTTP/2), not as TCP. */
export function servicePorts(grpc: boolean): NonNullable<NonNullable<IService['spec']>['ports']> {
  const http = { name: HTTP_PORT_NAME, port: HTTP_PORT, targetPort: HTTP_PORT_NAME, protocol: 'TCP' as const, appProtocol: 'http' };
  return grpc ? [http, { name: GRPC_PORT_NAME, port: GRPC_PORT, targetPort: GRPC_PORT_NAME, protocol: 'TCP', appProtocol: 'grpc' }] : [http];
}

function service(id: string, grpc: boolean): IService {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: workloadName(id), labels: selectorLabels(id) },
    spec: { selector: selectorLabels(id), ports: servicePorts(grpc) },
  };
}

/**
 * A node drain (a GKE node upgrade, an autoscaler scale-down) evicts at most one of the role's pods at a time, so a role with
 * two or more replicas always keeps one serving. `maxUnavailable` rather than `minAvailable` keeps that true at any replica
 * count the HPA picks, and never blocks a drain of a role running one replica. A pod that is not ready serves nothing, so
 * evicting it costs nothing: AlwaysAllow keeps a crash-looping pod from stalling an upgrade.
 */
function disruptionBudget(id: string, version: string): IPodDisruptionBudget {
  const labels = versionSelectorLabels(id, version);
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name: deploymentName(id, version), labels },
    spec: { maxUnavailable: 1, selector: { matchLabels: labels }, unhealthyPodEvictionPolicy: 'AlwaysAllow' },
  };
}

function secretEnv(name: string, key: string): EnvVar {
  return { name, valueFrom: { secretKeyRef: { name: BACKENDS_SECRET, key } } };
}

export function roleEnv(config: PlatformConfig, id: string, everyHop?: Transport): EnvVar[] {
  const role = config.services[id]!;
  const d = config.defaults;
  const env: EnvVar[] = [
    { name: VARIABLES.role.name, value: id },
    { name: VARIABLES.port.name, value: String(HTTP_PORT) },
    { name: VARIABLES.logLevel.name, value: 'info' },
    // From the pod's own label, so an overlay that relabels a canary also changes what the service reports.
    { name: VARIABLES.version.name, valueFrom: { fieldRef: { fieldPath: "metadata.labels['version']" } } },
    // Pinned here because terminationGracePeriodSeconds is computed from the same two numbers.
    { name: VARIABLES.drainDelayMs.name, value: String(d.drainDelayMs) },
    { name: VARIABLES.shutdownTimeoutMs.name, value: String(d.shutdownTimeoutMs) },
    { name: 'ZIPKIN_URL', value: ZIPKIN_URL },
  ];
  if (servesGrpc(config, id, everyHop)) env.push({ name: VARIABLES.grpcPort.name, value: String(GRPC_PORT) });
  for (const up of role.upstreams) env.push({ name: upstreamEnvName(up), value: upstreamUrl(up, edgeTransport(config, id, up, everyHop)) });
  const queue = role.publish?.queue ?? role.consume?.queue;
  if (queue !== undefined) env.push({ name: VARIABLES.queueName.name, value: queue });
  if (usesMongo(config, id)) env.push(secretEnv('MONGO_CONN', MONGO_SECRET_KEY));
  if (usesRabbitmq(config, id)) env.push(secretEnv('RABBITMQ_CONN', RABBITMQ_SECRET_KEY));
  return env;
}

function httpProbe(path: string, timing: Omit<Probe, 'httpGet'>): Probe {
  return { httpGet: { path, port: HTTP_PORT_NAME }, ...timing };
}

/**
 * Readiness over the transport the role's callers use: a role called over gRPC is asked by Kubernetes' native gRPC probe
 * (grpc.health.v1, which says NOT_SERVING exactly when /api/ready answers 503); liveness and start-up stay on HTTP, which
 * every role serves.
 */
export function readinessProbe(grpc: boolean): Probe {
  const timing = { periodSeconds: 2, timeoutSeconds: 1, failureThreshold: 1 };
  return grpc ? { grpc: { port: GRPC_PORT }, ...timing } : httpProbe(PATHS.readiness, timing);
}

export function containerPorts(grpc: boolean) {
  const http = { name: HTTP_PORT_NAME, containerPort: HTTP_PORT, protocol: 'TCP' as const };
  return grpc ? [http, { name: GRPC_PORT_NAME, containerPort: GRPC_PORT, protocol: 'TCP' as const }] : [http];
}

/** The image a version runs: the one the overlays build or push, or the build its `tag` pins (deploy/README.md). */
export function versionImage(config: PlatformConfig, id: string, version: string): string {
  const tag = versionFacts(config, id, version).tag;
  return tag === undefined ? IMAGE : `${PINNED_IMAGE}:${tag}`;
}

function deployment(config: PlatformConfig, id: string, version: string, everyHop?: Transport): IDeployment {
  const grpc = servesGrpc(config, id, everyHop);
  const facts = versionFacts(config, id, version);
  const resources = facts.resources;
  const shutdown = shutdownSeconds(config);
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: deploymentName(id, version), labels: podLabels(config, id, version) },
    spec: {
      replicas: facts.replicas,
      revisionHistoryLimit: 3,
      selector: { matchLabels: versionSelectorLabels(id, version) },
      // A new pod must be ready before an old one leaves, so a rollout never drops capacity below the replica count.
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: {
        metadata: {
          labels: podLabels(config, id, version),
          annotations: {
            'prometheus.io/scrape': 'true',
            'prometheus.io/port': String(HTTP_PORT),
            'prometheus.io/path': PATHS.metrics,
            // The app's first upstream call must not race the sidecar's start, and on SIGTERM the sidecar must keep
            // forwarding until the app has drained and answered what it still holds.
            'proxy.istio.io/config': JSON.stringify({
              holdApplicationUntilProxyStarts: true,
              terminationDrainDuration: `${shutdown}s`,
            }),
          },
        },
        spec: {
          serviceAccountName: identityName(config, id, version),
          automountServiceAccountToken: false,
          terminationGracePeriodSeconds: shutdown + GRACE_MARGIN_SECONDS,
          securityContext: {
            runAsNonRoot: true,
            runAsUser: RUN_AS_USER,
            runAsGroup: RUN_AS_USER,
            fsGroup: RUN_AS_USER,
            seccompProfile: { type: 'RuntimeDefault' },
          },
          containers: [
            {
              name: 'service',
              image: versionImage(config, id, version),
              imagePullPolicy: 'IfNotPresent',
              ports: containerPorts(grpc),
              env: roleEnv(config, id, everyHop),
              // Up to 30 s to listen; liveness only starts counting after that.
              startupProbe: httpProbe(PATHS.startup, { periodSeconds: 1, timeoutSeconds: 1, failureThreshold: 30 }),
              livenessProbe: httpProbe(PATHS.liveness, { periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 3 }),
              // Checked well inside the drain delay, so a pod that stops being ready leaves the endpoints before it stops.
              readinessProbe: readinessProbe(grpc),
              resources: {
                requests: { cpu: resources.requests.cpu, memory: resources.requests.memory },
                limits: { cpu: resources.limits.cpu, memory: resources.limits.memory },
              },
              securityContext: {
                runAsNonRoot: true,
                runAsUser: RUN_AS_USER,
                runAsGroup: RUN_AS_USER,
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                privileged: false,
                capabilities: { drop: ['ALL'] },
                seccompProfile: { type: 'RuntimeDefault' },
              },
              // The root filesystem is read-only; the runtime gets a small scratch directory in memory.
              volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
            },
          ],
          volumes: [{ name: 'tmp', emptyDir: { medium: 'Memory', sizeLimit: '16Mi' } }],
        },
      },
    },
  };
}
