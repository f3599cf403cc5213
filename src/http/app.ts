/**
 * The HTTP face of a role: the route table served by Elysia, CORS at the edge, JSON errors for everything that goes wrong,
 * and around each request the per-request work every server shares (serving/request.ts) plus what HTTP adds to it: the
 * request id and dropped tracing headers in the answer, the trace id at the edge, metrics by route template.
 */
import { Elysia } from 'elysia';
import { ATTR_HTTP_REQUEST_METHOD, ATTR_HTTP_RESPONSE_STATUS_CODE, ATTR_HTTP_ROUTE, ATTR_URL_PATH } from '@opentelemetry/semantic-conventions';
import type { Lifecycle } from '../serving/lifecycle';
import { matchedRoute, serveRequest, type RequestScope } from '../serving/request';
import { requestContext, type Logger } from '../telemetry/log';
import type { Metrics } from '../telemetry/metrics';
import type { Tracing } from '../telemetry/tracing';
import { edgeCors } from './cors';
import { corsPolicy } from './cors-policy';
import { ROUTES, UNTRACED_PATHS, type Route, type RouteDeps } from './routes';

export type Handler = (request: Request) => Promise<Response>;

export interface AppDeps extends RouteDeps {
  log: Logger;
  tracing?: Tracing;
  lifecycle: Lifecycle;
  metrics: Metrics;
}

/** The path of a request URL without building a URL object (this runs on every request). */
export function pathOf(url: string): string {
  const start = url.indexOf('/', url.indexOf('//') + 2);
  if (start < 0) return '/';
  const end = url.indexOf('?', start);
  return end < 0 ? url.slice(start) : url.slice(start, end);
}

/** Echoed paths are cut here: an error names the path, but must not hand back a 16 KB one. */
const ECHO_LIMIT = 128;
const bounded = (text: string) => (text.length > ECHO_LIMIT ? `${text.slice(0, ECHO_LIMIT)}… (${text.length} characters)` : text);

/** Why a path cannot be routed (percent-encoding that does not decode), or undefined when it can. */
export function malformedPath(pathname: string): string | undefined {
  if (!pathname.includes('%')) return undefined;
  try {
    decodeURIComponent(pathname);
    return undefined;
  } catch {
    return `malformed percent-encoding in the path ${bounded(pathname)}`;
  }
}

const jsonError = (status: number, error: string, headers: Record<string, string> = {}) => Response.json({ error }, { status, headers });

/** Every path the table serves, with the methods it takes (what a 405 lists in `Allow`). */
function methodsByPath(routes: readonly Route[]): Map<string, string[]> {
  const methods = new Map<string, string[]>();
  for (const route of routes) methods.set(route.path, [...(methods.get(route.path) ?? []), ...(route.method === 'GET' ? ['GET', 'HEAD'] : [])]);
  return methods;
}

/** The route table served by Elysia, with the edge's CORS when `cors` is given. */
function routedApp(deps: AppDeps, routes: readonly Route[], cors?: AppDeps['edge']) {
  // Elysia routes by the request's path; with `standardHostname` (its default) it assumes the host is at least four
  // characters long, and a `Host: xx` made `/xx/api/greeting` route as `/api/greeting`.
  const app = new Elysia({ handler: { standardHostname: false } });
  if (cors) app.use(edgeCors(cors));
  app.onError(({ code, error, request }) => {
    if (code === 'NOT_FOUND') return jsonError(404, `no route for ${request.method} ${bounded(pathOf(request.url))}`);
    if (code === 'PARSE' || code === 'VALIDATION') return jsonError(400, `bad request: ${(error as Error).message}`);
    deps.log.error('request failed', { error: error as Error });
    return jsonError(500, 'internal error');
  });
  for (const route of routes) {
    const spanName = `${route.method === 'ALL' ? '' : `${route.method} `}${route.path}`.trim();
    const attributes = { [ATTR_HTTP_ROUTE]: route.path };
    const serve = ({ request, params }: { request: Request; params: Record<string, string> }) => {
      matchedRoute(route.path, route.method === 'ALL' ? `${request.method} ${route.path}` : spanName, attributes);
      return route.handle(deps, { request, params, scope: scopeOf() });
    };
    if (route.method === 'GET') app.get(route.path, serve, route.options);
    else app.all(route.path, serve, route.options);
  }
  // The CORS preflight of every path, answered here rather than by the plugin: a route, so it is labelled like one.
  if (deps.edge) {
    const maxAge = { 'access-control-max-age': String(corsPolicy(deps.edge).maxAgeSeconds) };
    for (const path of methodsByPath(routes).keys())
      app.options(path, () => {
        matchedRoute(path, `OPTIONS ${path}`, { [ATTR_HTTP_ROUTE]: path });
        return new Response(null, { status: 204, headers: maxAge });
      });
  }
  // A known path asked with a method it does not take: 405 with `Allow`, from the same table (Elysia tries a route's own
  // methods first, so this only answers the others).
  for (const [path, methods] of methodsByPath(routes)) {
    if (methods.length === 0) continue;
    app.all(path, ({ request }) => {
      matchedRoute(path, `${request.method} ${path}`, { [ATTR_HTTP_ROUTE]: path });
      return jsonError(405, `method ${request.method} is not allowed on ${path}`, { allow: methods.join(', ') });
    });
  }
  return app;
}

export function createApp(deps: AppDeps): { handle: Handler } {
  const routes = ROUTES.filter((r) => deps.edge !== undefined || !r.edge);
  const app = routedApp(deps, routes);
  // At the edge, CORS is for the requests that carry an Origin (a browser's), as the original's rs/cors and Envoy's CORS
  // filter do: the others get `Vary: Origin` alone and skip the plugin's hooks, 3.5 µs of every request (the load on A).
  // The browsers' app is built on the first request that has an Origin, not at start: a probe never needs it.
  const { edge } = deps;
  let corsApp: ReturnType<typeof routedApp> | undefined;
  const browsersApp = () => (corsApp ??= routedApp(deps, routes, edge));
  // Only the edge names the trace in its answer: the browser UI links it; between roles the caller already knows it.
  const answersTraceId = edge !== undefined;
  const handle: Handler = async (request) => {
    const fromBrowser = edge !== undefined && request.headers.has('origin');
    const pathname = pathOf(request.url);
    const malformed = malformedPath(pathname);
    const { result: response, scope, seconds } = await serveRequest(
      deps.tracing,
      {
        headers: request.headers,
        spanName: request.method,
        attributes: { [ATTR_HTTP_REQUEST_METHOD]: request.method, [ATTR_URL_PATH]: pathname },
        traced: !malformed && !UNTRACED_PATHS.has(pathname.length > 1 ? pathname.replace(/\/$/, '') : pathname),
      },
      async () => (malformed ? jsonError(400, malformed) : (fromBrowser ? browsersApp() : app).handle(request)),
      // A 4xx is the caller's mistake, not this role's failure: only a 5xx fails the span.
      (r) => ({
        attributes: { [ATTR_HTTP_RESPONSE_STATUS_CODE]: r.status },
        failure: r.status >= 500 ? { reason: `answered ${r.status}`, type: String(r.status) } : undefined,
      }),
    );
    if (!scope.idAnswered) response.headers.set('x-request-id', scope.requestId);
    if (scope.ignored.length > 0) response.headers.set('x-ignored-headers', scope.ignored.map((i) => `${i.name} (${i.reason})`).join(', '));
    if (answersTraceId && scope.recordedTrace) response.headers.set('x-b3-traceid', scope.recordedTrace);
    if (edge && !fromBrowser) response.headers.append('vary', 'Origin');
    // From the moment this role drains, every answer says it closes its connection: a client that kept it alive would
    // otherwise send its next request on a socket the server is about to close, and lose that request.
    if (deps.lifecycle.phase === 'draining') response.headers.set('connection', 'close');
    deps.metrics.request(request.method, scope.route ?? 'unmatched', response.status, seconds, scope.recordedTrace);
    return response;
  };
  return { handle };
}

/** The scope of the request being served: serveRequest runs Elysia's handling inside it. */
function scopeOf(): RequestScope {
  return requestContext.getStore() as RequestScope;
}
