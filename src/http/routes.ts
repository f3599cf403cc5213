/**
 * Every route of the service, in one place. `ROUTES` is also what the metrics label by (route templates, never raw URLs),
 * what 405 answers are computed from, and what the cluster checks read to prove every probe path is served.
 */
import { Elysia } from 'elysia';
import { greet, type GreetDeps } from '../roles/greet';
import { requestEcho } from '../roles/edge/request-echo';
import { statusCode } from '../roles/edge/status-code';
import type { RoleSettings } from '../config/settings';
import type { Topology } from '../roles/edge/topology';
import { pickTracingHeaders } from '../telemetry/tracing-headers';
import { uiPage } from '../ui/page';
import type { Lifecycle } from '../lifecycle';
import type { Metrics } from '../telemetry/metrics';

export interface RouteSpec {
  method: 'GET' | 'ALL';
  path: string;
  /** Served by the edge role only. */
  edge?: true;
  purpose: string;
}

export const ROUTES: readonly RouteSpec[] = [
  { method: 'GET', path: '/api/greeting', purpose: 'upstream greetings then our own' },
  { method: 'GET', path: '/api/health', purpose: 'liveness and startup probe' },
  { method: 'GET', path: '/api/ready', purpose: 'readiness probe' },
  { method: 'GET', path: '/api/metrics', purpose: 'Prometheus scrape' },
  { method: 'ALL', path: '/api/request-echo', edge: true, purpose: 'the request as text' },
  { method: 'GET', path: '/api/status/:code', edge: true, purpose: 'answer with any status' },
  { method: 'GET', path: '/api/topology', edge: true, purpose: 'the call graph, for the UI' },
  { method: 'GET', path: '/', edge: true, purpose: 'the web UI' },
];

export interface RouteDeps extends GreetDeps {
  lifecycle: Lifecycle;
  metrics: Metrics;
  /** Present for the edge role: its resolved options and the call graph it serves. */
  edge?: NonNullable<RoleSettings['edge']> & { topology: Topology };
}

/** `GET /api/greeting`: the role's answer, its status and the Server-Timing of its subtree. */
export function greetingRoute(deps: GreetDeps): (request: Request) => Promise<Response> {
  return async (request) => {
    const answer = await greet(deps, pickTracingHeaders(request.headers));
    return new Response(JSON.stringify(answer.body), {
      status: answer.status,
      headers: { 'content-type': 'application/json;charset=utf-8', 'server-timing': answer.serverTiming },
    });
  };
}

export function registerRoutes(deps: RouteDeps) {
  const greeting = greetingRoute(deps);
  const app = new Elysia()
    .get('/api/greeting', ({ request }) => greeting(request))
    .get('/api/health', () => ({ alive: true }))
    .get('/api/ready', ({ set }) => {
      const report = deps.lifecycle.readiness();
      if (!report.ready) set.status = 503;
      return report;
    })
    .get('/api/metrics', async () => {
      const { registry } = deps.metrics;
      return new Response(await registry.metrics(), { headers: { 'content-type': registry.contentType } });
    });
  if (deps.edge === undefined) return app;
  const { echoBodyLimitBytes: limit, topology: graph } = deps.edge;
  return app
    .all('/api/request-echo', ({ request }) => requestEcho(request, limit), { parse: 'none' })
    .get('/api/status/:code', ({ params }) => statusCode(params.code))
    .get('/api/topology', () => graph)
    .get('/', () => uiPage());
}
