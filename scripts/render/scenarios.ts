/**
 * The scenario catalogue: the traffic scenarios of Istio's Bookinfo workshop (all to v1, a switch to v2, a weighted canary and
 * the steps of a gradual rollout, a dark launch for one user by header, a delay and an abort, timeouts, retries, circuit
 * breaking and outlier detection, and one version's calls denied), derived from the config. A role with more than one version
 * gets the routing scenarios; the fault and resilience scenarios pick their hops from the call graph; an access denial is
 * written for every extra version of a calling role at each of its upstreams. One file per scenario with Bookinfo's names in
 * deploy/istio/scenarios/, and its twin for the Gateway API component where Gateway API can say it.
 *
 * A routing scenario is planned once (which versions get what share, for whom, with what fault, timeout or retries) and the
 * plan is said twice: as the role's VirtualService, and as its HTTPRoute. A scenario either replaces shipped objects (a
 * role's route or DestinationRule: one per role, so two scenarios of one role replace each other) or adds its own (an
 * AuthorizationPolicy). Undoing it applies the shipped objects it replaced and deletes what it added; `reset` undoes them all
 * (scripts/scenario/ does both with kubectl).
 */
import { deploymentName, edgeRole, identityName, roleVersion, roleVersions, versionedRoles } from '../../src/config/facts';
import type { PlatformConfig } from '../../src/config/schema';
import { ROUTING_HEADER } from '../../src/serving/routing-headers';
import {
  GATEWAY_API_SHIPPED,
  meshHttpRoutes,
  roleHttpRoute,
  toVersionService,
  versionDestinationRule,
  type HTTPRouteRule,
} from './gateway-api';
import { GENERATED_DIRS, workloadName } from './layout';
import {
  meshVirtualServices,
  principal,
  roleDestinationRule,
  roleVirtualService,
  toVersion,
  type AuthorizationPolicy,
  type HttpRoute,
  type TrafficPolicy,
} from './mesh';

/** The user a dark launch is for: Bookinfo's `jason`. */
export const DARK_LAUNCH_USER = 'jason';
/** The steps of a gradual rollout, default version first; 80/20 is the workshop's canary. */
export const ROLLOUT_STEPS: readonly (readonly [number, number])[] = [
  [90, 10],
  [80, 20],
  [50, 50],
  [20, 80],
];
export const DELAY = '2s';
export const ABORT = { httpStatus: 503, percent: 50 } as const;
/** Shorter than the delay below it, so the route gives up first: a timeout, and a partial answer one hop up. */
export const TIMEOUT = '1s';
export const RETRIES = {
  attempts: 2,
  perTryTimeout: '500ms',
  // Per-try timeouts, resets and refused connections are retried; a 502 is not: it is a partial answer that holds greetings.
  retryOn: 'reset,connect-failure,refused-stream,unavailable',
} as const;
/** One connection and one request waiting: four requests at a time (a UI run) already overflow it. */
export const CIRCUIT_BREAKER: TrafficPolicy = {
  connectionPool: { tcp: { maxConnections: 1 }, http: { http1MaxPendingRequests: 1, http2MaxRequests: 1, maxRequestsPerConnection: 1 } },
  outlierDetection: { consecutive5xxErrors: 1, interval: '1s', baseEjectionTime: '3m', maxEjectionPercent: 100 },
};

/** Every scenario object carries it: `kubectl -n dev get virtualservices -L greeting-mesh/scenario` shows what is applied. */
export const SCENARIO_LABEL = 'greeting-mesh/scenario';

/** Where the shipped objects a scenario replaces come from: what its undo applies again. */
export const SHIPPED = {
  virtualServices: `${GENERATED_DIRS.mesh}/virtual-services-all-v1.yaml`,
  destinationRules: `${GENERATED_DIRS.mesh}/destination-rules-all.yaml`,
} as const;

export interface ObjectRef {
  kind: string;
  name: string;
}

/** One flavour of a scenario: its file, its objects, what it replaces (and the shipped file those come from), what it adds. */
export interface Flavour {
  file: string;
  objects: object[];
  replaces: (ObjectRef & { from: string })[];
  adds: ObjectRef[];
}

export interface Watch {
  kiali: string;
  grafana: string;
  ui: string;
}

export interface Scenario {
  /** What `npm run scenario -- <id>` and its Tilt resource are called. */
  id: string;
  /** What it shows, in a sentence. */
  title: string;
  /** A scenario to apply with it, without which there is nothing to see (a denial of a version that gets no traffic). */
  pairsWith?: string;
  watch: Watch;
  istio: Flavour;
  /** The Gateway API component's twin, or why Gateway API cannot say it. */
  gatewayApi: Flavour | { cannot: string };
}

/** What one routing rule does: for whom (a routing header's value), to which versions in what shares, with what on the way. */
interface Rule {
  name?: string;
  user?: string;
  to: { version: string; weight?: number }[];
  fault?: { delay?: string; abort?: { httpStatus: number; percent: number } };
  timeout?: string;
  retries?: typeof RETRIES;
}

const NO_FAULTS = 'Gateway API has no fault injection: HTTPRoute has no delay or abort filter';
const NO_RETRIES =
  "Gateway API's standard channel, which the component installs, has no retries: HTTPRoute `retry` is experimental (GEP-1731)";

function labelled<T extends object>(id: string, object: T): T {
  const o = object as { metadata?: { labels?: Record<string, string> } };
  return { ...object, metadata: { ...o.metadata, labels: { ...o.metadata?.labels, [SCENARIO_LABEL]: id } } } as T;
}

function replacing(id: string, file: string, objects: { kind: string; metadata?: { name?: string } }[], from: string): Flavour {
  return {
    file,
    objects: objects.map((o) => labelled(id, o)),
    replaces: objects.map((o) => ({ kind: o.kind, name: o.metadata!.name!, from })),
    adds: [],
  };
}

function virtualServiceRoute(id: string, rule: Rule): HttpRoute {
  return {
    ...(rule.name ? { name: rule.name } : {}),
    ...(rule.user ? { match: [{ headers: { [ROUTING_HEADER]: { exact: rule.user } } }] } : {}),
    ...(rule.fault
      ? {
          fault: {
            ...(rule.fault.delay ? { delay: { fixedDelay: rule.fault.delay, percentage: { value: 100 } } } : {}),
            ...(rule.fault.abort ? { abort: { httpStatus: rule.fault.abort.httpStatus, percentage: { value: rule.fault.abort.percent } } } : {}),
          },
        }
      : {}),
    route: rule.to.map((t) => toVersion(id, t.version, t.weight)),
    ...(rule.timeout ? { timeout: rule.timeout } : {}),
    ...(rule.retries ? { retries: rule.retries } : {}),
  };
}

function httpRouteRule(id: string, rule: Rule): HTTPRouteRule {
  return {
    ...(rule.name ? { name: rule.name } : {}),
    ...(rule.user ? { matches: [{ headers: [{ type: 'Exact' as const, name: ROUTING_HEADER, value: rule.user }] }] } : {}),
    backendRefs: rule.to.map((t) => toVersionService(id, t.version, t.weight)),
    ...(rule.timeout ? { timeouts: { request: rule.timeout } } : {}),
  };
}

/** A routing scenario of one role, both flavours from one plan. */
function routed(base: Omit<Scenario, 'istio' | 'gatewayApi'>, role: string, fileTail: string, rules: Rule[]): Scenario {
  const cannot = rules.some((r) => r.fault) ? NO_FAULTS : rules.some((r) => r.retries) ? NO_RETRIES : undefined;
  return {
    ...base,
    istio: replacing(base.id, `${GENERATED_DIRS.scenarios}/virtual-service-${role}-${fileTail}.yaml`, [roleVirtualService(role, rules.map((r) => virtualServiceRoute(role, r)))], SHIPPED.virtualServices),
    gatewayApi: cannot
      ? { cannot }
      : replacing(base.id, `${GENERATED_DIRS.gatewayApiScenarios}/http-route-${role}-${fileTail}.yaml`, [roleHttpRoute(role, rules.map((r) => httpRouteRule(role, r)))], GATEWAY_API_SHIPPED.httpRoutes),
  };
}

/** `canary-h-80-20`, or `canary-h-v3-80-20` when the role has several versions besides its default. */
function versionedId(config: PlatformConfig, prefix: string, id: string, version: string, suffix: string): string {
  return [prefix, id, roleVersions(config, id).length > 2 ? version : '', suffix].filter(Boolean).join('-');
}

function routingScenarios(config: PlatformConfig, id: string): Scenario[] {
  const base = roleVersion(config, id);
  const name = config.services[id]!.name;
  const several = roleVersions(config, id).length > 2;
  const host = workloadName(id);
  return roleVersions(config, id)
    .slice(1)
    .flatMap((version): Scenario[] => {
      const switched = routed(
        {
          id: `${id}-${version}`,
          title: `All of ${name}'s traffic switched to ${version}`,
          watch: {
            kiali: `Graph (versioned app graph, edge labels: traffic distribution): every request to ${host} goes to ${version}, none to ${base}`,
            grafana: `Istio Workload Dashboard, ${deploymentName(id, version)}: the incoming requests; ${deploymentName(id, base)}'s drop to zero`,
            ui: `Run N requests: the version tally shows ${name} answered by ${version} every time`,
          },
        },
        id,
        version,
        [{ to: [{ version }] }],
      );
      const steps = ROLLOUT_STEPS.map(([from, to]) =>
        routed(
          {
            id: versionedId(config, 'canary', id, version, `${from}-${to}`),
            title: from === 80 ? `Canary: ${from}% of ${name}'s traffic to ${base}, ${to}% to ${version}` : `A gradual rollout's step: ${name} ${from}% ${base}, ${to}% ${version}`,
            watch: {
              kiali: `Graph, edge labels "traffic distribution": about ${from}% and ${to}% on the edges into ${host} ${base} and ${version}`,
              grafana: `Istio Service Dashboard, ${host}: incoming requests by destination workload, about ${from}:${to}`,
              ui: `Run N requests (100 or more): the version tally shows ${name} about ${from}% ${base}, ${to}% ${version}`,
            },
          },
          id,
          several ? `${version}-${from}-${to}` : `${from}-${to}`,
          [{ to: [{ version: base, weight: from }, { version, weight: to }] }],
        ),
      );
      const dark = routed(
        {
          id: `dark-launch-${id}-${version}`,
          title: `Dark launch: requests with \`${ROUTING_HEADER}: ${DARK_LAUNCH_USER}\` get ${name} ${version}, everyone else ${base}`,
          watch: {
            kiali: `Graph: ${version} gets traffic only while ${DARK_LAUNCH_USER}'s requests flow; Istio Config shows the header match`,
            grafana: `Istio Workload Dashboard, ${deploymentName(id, version)}: requests only while ${DARK_LAUNCH_USER}'s calls run`,
            ui: `User field ${DARK_LAUNCH_USER}, run N requests: ${name} is ${version} every time; User empty: ${base} every time (curl -H '${ROUTING_HEADER}: ${DARK_LAUNCH_USER}' likewise)`,
          },
        },
        id,
        `${DARK_LAUNCH_USER}-${version}`,
        [
          { name: 'dark-launch', user: DARK_LAUNCH_USER, to: [{ version }] },
          { name: 'default', to: [{ version: base }] },
        ],
      );
      return [switched, ...steps, dark];
    });
}

/** The hops the fault and resilience scenarios use, chosen from the call graph (faultHops). */
export interface FaultHops {
  /** A deepest role some other role calls: its calls are delayed. */
  delay?: string;
  /** Another role, as deep as possible: its calls are aborted (so delay and abort can be applied together and told apart). */
  abort?: string;
  /** A caller of the delayed role other than the edge: its route gets the timeout and retries, its host the circuit breaker. */
  resilience?: string;
}

/** Every role's depth from the edge along calls (the shortest path), for the roles the edge reaches. */
function depths(config: PlatformConfig): Map<string, number> {
  const edge = edgeRole(config);
  const depth = new Map<string, number>([[edge, 0]]);
  const queue = [edge];
  while (queue.length > 0) {
    const id = queue.shift()!;
    for (const up of config.services[id]!.upstreams)
      if (!depth.has(up)) {
        depth.set(up, depth.get(id)! + 1);
        queue.push(up);
      }
  }
  return depth;
}

/**
 * The delay goes deepest, where every caller above it waits (of the deepest, the last in config order: Service H); the abort
 * on the next role as deep (Service G); timeouts, retries and the circuit breaker on the delayed role's caller (Service E),
 * so the delay makes that caller too slow for the route to it, and the answer one hop further up partial.
 */
export function faultHops(config: PlatformConfig): FaultHops {
  const depth = depths(config);
  const edge = edgeRole(config);
  const ids = Object.keys(config.services);
  const called = [...depth.keys()].filter((id) => id !== edge).sort((a, b) => depth.get(b)! - depth.get(a)! || ids.indexOf(b) - ids.indexOf(a));
  const delay = called[0];
  const abort = called[1];
  const resilience = delay === undefined ? undefined : ids.find((id) => id !== edge && config.services[id]!.upstreams.includes(delay));
  return { delay, abort, resilience };
}

function faultScenarios(config: PlatformConfig): Scenario[] {
  const hops = faultHops(config);
  const name = (id: string) => config.services[id]!.name;
  const callerId = (id: string) => Object.keys(config.services).find((c) => config.services[c]!.upstreams.includes(id))!;
  const callerOf = (id: string) => workloadName(callerId(id));
  const callerName = (id: string) => name(callerId(id));
  const toDefault = (id: string) => [{ version: roleVersion(config, id) }];
  const out: Scenario[] = [];
  if (hops.delay) {
    const id = hops.delay;
    out.push(
      routed(
        {
          id: `delay-${id}`,
          title: `Fault injection: every call to ${name(id)} waits ${DELAY} first, at the caller's sidecar`,
          watch: {
            kiali: `Graph, edge labels "response time": the edge into ${workloadName(id)} at about ${DELAY}, and every edge above it as slow`,
            grafana: `Istio Service Dashboard, ${workloadName(id)}: client request duration about ${DELAY}, server duration still small (the wait is before it)`,
            // The wait happens in the caller's sidecar, before the delayed role sees the request: its own time stays small.
            ui: `Call: ${callerName(id)} is marked slow, about ${DELAY.replace('s', ' s')} of its own time, and ${name(id)} is not: the wait is in the caller's sidecar, which Kiali's edge response times place between them`,
          },
        },
        id,
        'test-delay',
        [{ to: toDefault(id), fault: { delay: DELAY } }],
      ),
    );
  }
  if (hops.abort) {
    const id = hops.abort;
    out.push(
      routed(
        {
          id: `abort-${id}`,
          title: `Fault injection: ${ABORT.percent}% of the calls to ${name(id)} fail with ${ABORT.httpStatus} before reaching it`,
          watch: {
            kiali: `Graph: the edge ${callerOf(id)} -> ${workloadName(id)} red, about ${ABORT.percent}% errors, while ${workloadName(id)}'s pods see only the other half`,
            grafana: `Istio Service Dashboard, ${workloadName(id)}: ${ABORT.httpStatus}s reported by the client side, response flag FI`,
            ui: `Run N requests: about ${ABORT.percent}% partial answers (502) with ${name(id)} failed, every other greeting still there`,
          },
        },
        id,
        'test-abort',
        [{ to: toDefault(id), fault: { abort: ABORT } }],
      ),
    );
  }
  if (hops.resilience && hops.delay) {
    const id = hops.resilience;
    const host = workloadName(id);
    out.push(
      routed(
        {
          id: `timeout-${id}`,
          title: `A timeout on the route to ${name(id)}: ${TIMEOUT}, under the ${DELAY} delay below it`,
          pairsWith: `delay-${hops.delay}`,
          watch: {
            kiali: `With delay-${hops.delay}: the edge ${callerOf(id)} -> ${host} red with 504s after about ${TIMEOUT}`,
            grafana: `Istio Service Dashboard, ${host}: 504s with response flag UT`,
            ui: `With delay-${hops.delay}: every call partial (502) after about ${TIMEOUT}, ${name(id)} failed with 504 "upstream request timeout"`,
          },
        },
        id,
        'timeout',
        [{ to: toDefault(id), timeout: TIMEOUT }],
      ),
      routed(
        {
          id: `retries-${id}`,
          title: `Retries on the route to ${name(id)}: ${RETRIES.attempts} more tries of ${RETRIES.perTryTimeout} each on a timeout or a reset`,
          pairsWith: `delay-${hops.delay}`,
          watch: {
            kiali: `With delay-${hops.delay}: the edge ${callerOf(id)} -> ${host} red with 504s after about ${RETRIES.attempts + 1} x ${RETRIES.perTryTimeout}, and ${host}'s inbound request rate ${RETRIES.attempts + 1} times its caller's`,
            grafana: `Istio Service Dashboard, ${host}: incoming requests ${RETRIES.attempts + 1} times the outgoing ones of ${callerOf(id)} (each try counted), 504s with flag UT`,
            ui: `With delay-${hops.delay}: every call partial (502) after about 1.5 s, ${name(id)} failed with 504`,
          },
        },
        id,
        'retries',
        [{ to: toDefault(id), retries: RETRIES }],
      ),
    );
    const cbId = `circuit-breaker-${id}`;
    out.push({
      id: cbId,
      title: `Circuit breaking and outlier detection for ${name(id)}: one connection, one request waiting, a pod out after one 5xx`,
      watch: {
        kiali: `Graph: ${host} carries the circuit-breaker badge; the edge into it red with 503s while four calls run at once`,
        grafana: `Istio Service Dashboard, ${host}: 503s with response flag UO (overflow), which never reached a pod`,
        ui: `Run N requests (four at a time): some partial answers with ${name(id)} failed 503 "overflow"; a single Call passes`,
      },
      istio: replacing(cbId, `${GENERATED_DIRS.scenarios}/destination-rule-${id}-circuit-breaker.yaml`, [roleDestinationRule(config, id, CIRCUIT_BREAKER)], SHIPPED.destinationRules),
      // Traffic policy is Istio's under either API; the routes of the component send to the per-version hosts, so it goes there.
      gatewayApi: replacing(
        cbId,
        `${GENERATED_DIRS.gatewayApiScenarios}/destination-rules-${id}-circuit-breaker.yaml`,
        roleVersions(config, id).map((v) => versionDestinationRule(id, v, CIRCUIT_BREAKER)),
        GATEWAY_API_SHIPPED.destinationRules,
      ),
    });
  }
  return out;
}

export function denyPolicy(config: PlatformConfig, caller: string, version: string, upstream: string): AuthorizationPolicy {
  const identity = identityName(config, caller, version);
  return {
    apiVersion: 'security.istio.io/v1',
    kind: 'AuthorizationPolicy',
    metadata: { name: `deny-${identity}-to-${workloadName(upstream)}` },
    spec: {
      selector: { matchLabels: { app: workloadName(upstream) } },
      action: 'DENY',
      rules: [{ from: [{ source: { principals: [principal(identity)] } }] }],
    },
  };
}

/** One version's identity denied at one upstream; its effect shows once that version gets traffic (pairsWith). */
function accessScenarios(config: PlatformConfig): Scenario[] {
  return versionedRoles(config).flatMap((caller) =>
    roleVersions(config, caller)
      .slice(1)
      .flatMap((version) =>
        config.services[caller]!.upstreams.map((up): Scenario => {
          const id = `deny-${caller}-${version}-to-${up}`;
          const policy = labelled(id, denyPolicy(config, caller, version, up));
          const identity = identityName(config, caller, version);
          const who = `${config.services[caller]!.name} ${version}`;
          const target = config.services[up]!.name;
          const flavour: Flavour = {
            file: `${GENERATED_DIRS.scenarios}/authorization-policy-deny-${caller}-${version}-to-${up}.yaml`,
            objects: [policy],
            replaces: [],
            adds: [{ kind: policy.kind, name: policy.metadata!.name! }],
          };
          const pair = versionedId(config, 'canary', caller, version, '50-50');
          return {
            id,
            title: `Access denial: ${target} refuses the calls of ${who} (identity ${identity}), and only those`,
            pairsWith: pair,
            watch: {
              kiali: `With ${pair}, workload graph: the edge ${identity} -> ${workloadName(up)} red with 403s, the default version's green; Security display: the policy`,
              grafana: `Istio Workload Dashboard, ${deploymentName(caller, version)}: outbound requests to ${workloadName(up)} answered 403`,
              ui: `With ${pair}, run N requests: every answer ${who} gave is partial (502), ${target} failed with 403 (RBAC: access denied, from ${target}'s sidecar); the default version's answers are whole`,
            },
            istio: flavour,
            // Authorization is by identity, not by route: the same policy holds under the Gateway API component.
            gatewayApi: flavour,
          };
        }),
      ),
  );
}

/** The whole catalogue for a config, in the order the README lists it. */
export function scenarios(config: PlatformConfig): Scenario[] {
  const allV1: Scenario = {
    id: 'all-v1',
    title: "All traffic to each role's default version: the shipped routes",
    watch: {
      kiali: 'Graph (versioned app graph): only the default version of each role gets traffic; extra versions are idle boxes',
      grafana: 'Istio Mesh Dashboard: the default versions serving, the extra versions at zero',
      ui: 'Run N requests: the version tally shows every role answered by its default version only',
    },
    istio: replacing('all-v1', `${GENERATED_DIRS.scenarios}/virtual-service-all-v1.yaml`, meshVirtualServices(config), SHIPPED.virtualServices),
    gatewayApi: replacing('all-v1', `${GENERATED_DIRS.gatewayApiScenarios}/http-route-all-v1.yaml`, meshHttpRoutes(config), GATEWAY_API_SHIPPED.httpRoutes),
  };
  return [allV1, ...versionedRoles(config).flatMap((id) => routingScenarios(config, id)), ...faultScenarios(config), ...accessScenarios(config)];
}

export function flavourOf(scenario: Scenario, gatewayApi: boolean): Flavour | undefined {
  if (!gatewayApi) return scenario.istio;
  return 'cannot' in scenario.gatewayApi ? undefined : scenario.gatewayApi;
}
