/**
 * Every route of the HTTP API, in one table, and everything that follows from it: what Elysia serves (app.ts), which routes
 * are traced, what metrics label by (route templates, never raw URLs), what 405 answers list in `Allow`, and which paths
 * the rendered manifests probe and scrape (scripts/render/). Adding a route is one entry here.
 */
import type { RoleAnswer } from '../greeting';
import type { Topology } from '../capabilities/topology';
import type { EdgeSettings } from '../config/settings';
import type { Lifecycle } from '../serving/lifecycle';
import type { RequestScope } from '../serving/request';
import type { Metrics } from '../telemetry/metrics';
import { uiPage } from '../ui/page';
import { requestEcho } from './request-echo';
import { statusCode } from './status-code';
import { formatTimings } from '../greeting';
import { gatewayShape, GREETING_PATH, STATUS_OF } from './wire';

/** What a route's handler is given: the request, its path parameters, and what the per-request work learnt of it. */
export interface RouteContext {
  request: Request;
  params: Record<string, string>;
  scope: RequestScope;
}

export interface RouteDeps {
  greet(forward: Record<string, string>): Promise<RoleAnswer>;
  lifecycle: Lifecycle;
  metrics: Metrics;
  /** Present for the edge role: its resolved options and the call graph it serves. */
  edge?: EdgeSettings & { topology: Topology };
}

export interface Route {
  method: 'GET' | 'ALL';
  path: string;
  /** Served by the edge role only. */
  edge?: true;
  /** Probes and scrapes are not traced. */
  traced: boolean;
  /** What the manifests use this route for, if anything. */
  probe?: 'liveness' | 'readiness' | 'metrics';
  purpose: string;
  /** Elysia's per-route options (`parse: 'none'`: the echo reads the body itself, bounded). */
  options?: { parse: 'none' };
  handle(deps: RouteDeps, ctx: RouteContext): Response | Promise<Response> | object;
}

export const ROUTES: readonly Route[] = [
  {
    method: 'GET',
    path: GREETING_PATH,
    traced: true,
    purpose: 'upstream greetings then our own',
    async handle(deps, { scope }) {
      const answer = await deps.greet(scope.forward);
      const body = 'entries' in answer ? (deps.edge?.greetingShape === 'gateway' ? gatewayShape(answer.entries) : answer.entries) : answer.error;
      scope.idAnswered = true;
      return new Response(JSON.stringify(body), {
        status: STATUS_OF[answer.outcome],
        headers: { 'content-type': 'application/json;charset=utf-8', 'server-timing': formatTimings(answer.timings), 'x-request-id': scope.requestId },
      });
    },
  },
  { method: 'GET', path: '/api/health', traced: false, probe: 'liveness', purpose: 'liveness and startup probe', handle: () => ({ alive: true }) },
  {
    method: 'GET',
    path: '/api/ready',
    traced: false,
    probe: 'readiness',
    purpose: 'readiness probe',
    handle(deps) {
      const report = deps.lifecycle.readiness();
      return Response.json(report, { status: report.ready ? 200 : 503 });
    },
  },
  {
    method: 'GET',
    path: '/api/metrics',
    traced: false,
    probe: 'metrics',
    purpose: 'Prometheus scrape',
    // OpenMetrics (with exemplars) when the scraper's Accept asks for it, else Prometheus text (telemetry/exposition.ts).
    async handle({ metrics }, { request }) {
      const { body, contentType } = await metrics.exposition(request.headers.get('accept'));
      return new Response(body, { headers: { 'content-type': contentType, vary: 'accept' } });
    },
  },
  {
    method: 'ALL',
    path: '/api/request-echo',
    edge: true,
    traced: true,
    purpose: 'the request as text',
    options: { parse: 'none' },
    handle: (deps, { request }) => requestEcho(request, deps.edge!.echoBodyLimitBytes),
  },
  { method: 'GET', path: '/api/status/:code', edge: true, traced: true, purpose: 'answer with any status', handle: (_, { params }) => statusCode(params.code!) },
  { method: 'GET', path: '/api/topology', edge: true, traced: true, purpose: 'the call graph, for the UI', handle: (deps) => deps.edge!.topology },
  { method: 'GET', path: '/', edge: true, traced: true, purpose: 'the web UI', handle: () => uiPage() },
];

/** The route a probe uses, for the manifests. */
export function probePath(probe: NonNullable<Route['probe']>): string {
  return ROUTES.find((r) => r.probe === probe)!.path;
}

/** Paths that are not traced, for a decision made before routing (none of them has parameters). */
export const UNTRACED_PATHS: ReadonlySet<string> = new Set(ROUTES.filter((r) => !r.traced).map((r) => r.path));
