/**
 * The fixed facts of the cluster layout that every rendered object and every cluster test agree on. The per-role facts
 * (who calls whom, who stores or queues, replicas, resources) come from config/services.json, and what follows from them
 * (names, URLs, needs) from src/config/facts.ts, shared with the service; these do not vary by role.
 */
import { upstreamEnvName, workloadName } from '../../src/config/facts';
import type { Transport } from '../../src/config/schema';
import { probePath } from '../../src/http/routes';
import { GREETING_PATH } from '../../src/http/wire';

export { upstreamEnvName, workloadName };

/**
 * The namespace both overlays deploy into. Istio identities are namespace-bound (`cluster.local/ns/<ns>/sa/<sa>`), and an
 * AuthorizationPolicy principal is a literal string that kustomize's namespace transformer does not rewrite, so the
 * principals are rendered for this namespace and the tests fail if an overlay deploys anywhere else.
 */
export const NAMESPACE = 'dev';

/** The image name in the base; Tilt builds it for kind, the GKE script points it at the registry. */
export const IMAGE = 'greeting-mesh';
/**
 * The image of a version whose config pins a `tag`: another name in the base, because kustomize's `images:` retags every
 * image of a name, and the overlays retag `greeting-mesh` to the build they deploy. The overlays map this name to the same
 * repository and leave its tag alone.
 */
export const PINNED_IMAGE = 'greeting-mesh-pinned';

/** Every pod listens here, whatever its local-platform port in the config. */
export const HTTP_PORT = 8080;
export const HTTP_PORT_NAME = 'http';
/** Where a pod that is called over gRPC serves it (the original's gRPC variant's port), named as Istio expects. */
export const GRPC_PORT = 50051;
export const GRPC_PORT_NAME = 'grpc';

/** The numeric user of the runtime image (distroless `nonroot`); numeric so `runAsNonRoot` can be verified by the kubelet. */
export const RUN_AS_USER = 65532;

/** The Secret holding the backends' connection strings, with the original platform's key names. */
export const BACKENDS_SECRET = 'greeting-mesh-backends';
export const MONGO_SECRET_KEY = 'mongodb.conn';
export const RABBITMQ_SECRET_KEY = 'rabbitmq.conn';

/** The paths the manifests probe, scrape and allow, from the service's own route table. */
export const PATHS = {
  startup: probePath('liveness'),
  liveness: probePath('liveness'),
  readiness: probePath('readiness'),
  metrics: probePath('metrics'),
  greeting: GREETING_PATH,
} as const;

/** The Istio ingress gateway's identity (istioctl's default install). */
export const INGRESS_PRINCIPAL = 'cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account';
export const GATEWAY = 'greeting-mesh-gateway';

/**
 * Where the services send their own spans: the Zipkin endpoint of the Jaeger add-on that deploy/istio/install.sh installs in
 * both clusters, the same collector the sidecars report to, so the app's spans and Envoy's join in one trace.
 */
export const ZIPKIN_URL = 'http://zipkin.istio-system:9411/api/v2/spans';

/** The in-cluster backends of the kind overlay: Service names, ports and the app label their pods carry. */
export const MONGODB = { name: 'mongodb', port: 27017 } as const;
export const RABBITMQ = { name: 'rabbitmq', port: 5672 } as const;

export const COMPONENT_LABEL = 'service';

export function principal(serviceAccount: string, namespace = NAMESPACE): string {
  return `cluster.local/ns/${namespace}/sa/${serviceAccount}`;
}

/**
 * An upstream's URL inside the cluster. The short name resolves in the caller's own namespace, so the Deployments work in any
 * namespace an overlay picks; with the default `ndots: 5` it is also the first search-list name tried, where a
 * `service-b.dev.svc.cluster.local` (four dots, no trailing dot) would first be tried with every search suffix appended.
 */
export function upstreamUrl(id: string, transport: Transport = 'http'): string {
  return transport === 'grpc' ? `grpc://${workloadName(id)}:${GRPC_PORT}` : `http://${workloadName(id)}:${HTTP_PORT}`;
}


/** Where the render writes, relative to the repository root. */
export const GENERATED_DIRS = {
  workloads: 'deploy/base/generated',
  mesh: 'deploy/istio/generated',
  autoscaling: 'deploy/gke/generated',
  backendPolicies: 'deploy/components/in-cluster-backends/generated',
  grpcTransport: 'deploy/components/grpc-transport/generated',
  ambient: 'deploy/components/ambient/generated',
  scenarios: 'deploy/istio/scenarios',
  gatewayApi: 'deploy/components/gateway-api/generated',
  gatewayApiScenarios: 'deploy/components/gateway-api/scenarios',
} as const;
