/**
 * The HTTP face of a role: its routes, CORS at the edge, JSON errors for everything that goes wrong, and the per-request
 * wrapper that sets the request context (for log lines), traces, counts and times the request.
 */
import { randomUUID } from 'node:crypto';
import { context } from '@opentelemetry/api';
import { Elysia } from 'elysia';
import { edgeCors } from '../roles/edge/cors';
import { contextFromB3, requestContext, type RequestContext } from '../telemetry/log';
import { dropMalformedTracingHeaders } from '../telemetry/tracing-headers';
import { endServerSpan, isSampled, startServerSpan } from '../telemetry/spans';
import { failSpan } from '../telemetry/tracing';
import { registerRoutes, ROUTES, type RouteDeps, type RouteSpec } from './routes';

export interface AppDeps extends RouteDeps {
}

export type Handler = (request: Request) => Promise<Response>;

interface CompiledRoute {
  spec: RouteSpec;
  pattern: RegExp;
}

/** Probes and scrapes are not traced: every few seconds per pod, they would bury the traces anyone looks for. */
const UNTRACED_ROUTES = new Set(['/api/health', '/api/ready', '/api/metrics']);

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

export function compileRoutes(edge: boolean): CompiledRoute[] {
  return ROUTES.filter((r) => edge || !r.edge).map((spec) => ({
    spec,
    pattern: new RegExp(`^${spec.path.replace(/:[a-z]+/gi, '[^/]+')}/?$`),
  }));
}

export function createApp(deps: AppDeps): { handle: Handler } {
  const edge = deps.edge !== undefined;
  const routes = compileRoutes(edge);
  const routeOf = (pathname: string) => routes.find((r) => r.pattern.test(pathname))?.spec.path ?? 'unmatched';
  const jsonError = (status: number, error: string, headers: Record<string, string> = {}) =>
    Response.json({ error }, { status, headers });

  const base = new Elysia({ handler: { standardHostname: false } });
  if (deps.edge) base.use(edgeCors(deps.edge));
  const app = base
    .onError(({ code, error, request }) => {
      if (code === 'NOT_FOUND') {
        const pathname = pathOf(request.url);
        const route = routeOf(pathname);
        // Every route but the echo (which takes all methods) is a GET.
        if (route !== 'unmatched') return jsonError(405, `method ${request.method} is not allowed on ${route}`, { allow: 'GET, HEAD' });
        return jsonError(404, `no route for ${request.method} ${bounded(pathname)}`);
      }
      if (code === 'PARSE' || code === 'VALIDATION') return jsonError(400, `bad request: ${(error as Error).message}`);
      deps.log.error('request failed', { error: error as Error });
      return jsonError(500, 'internal error');
    })
    .use(registerRoutes(deps));

  const { tracing } = deps;
  // Only the edge names the trace in its answer: the browser UI links it; between roles the caller already knows it.
  const answerTraceId = edge;

  /** Inside a SERVER span; at the edge the answer names the trace when it is recorded, so the UI can link to it. */
  const handleTraced = async (request: Request, route: string, pathname: string, requestId: string): Promise<Response> => {
    const { span, ctx } = startServerSpan(tracing!, request, route, pathname, requestId);
    const ids = span.spanContext();
    const logContext: RequestContext = { requestId, traceId: ids.traceId, spanId: ids.spanId };
    let response: Response;
    try {
      response = await context.with(ctx, () => requestContext.run(logContext, () => app.handle(request)));
    } catch (err) {
      failSpan(span, (err as Error).message, 'error');
      span.end();
      throw err;
    }
    endServerSpan(span, response.status);
    if (answerTraceId && isSampled(span)) response.headers.set('x-b3-traceid', ids.traceId);
    return response;
  };

  /**
   * Tracing off (or a probe): log lines carry the caller's trace id, an Envoy sidecar's typically, and so does the edge's answer
   * unless the caller said it is not recorded. None is made up: an id that no collector records would be a dead link in the UI.
   */
  const handleUntraced = async (request: Request, route: string, requestId: string): Promise<Response> => {
    const { headers } = request;
    const traceId = headers.get('x-b3-traceid');
    const response = await requestContext.run(contextFromB3(requestId, (name) => headers.get(name)), () => app.handle(request));
    if (answerTraceId && traceId && headers.get('x-b3-sampled') !== '0') response.headers.set('x-b3-traceid', traceId);
    return response;
  };

  const handle: Handler = async (request) => {
    const started = performance.now();
    // Only well-formed tracing values go on: one an upstream cannot parse would fail the whole chain (tracing-headers.ts).
    const ignored = dropMalformedTracingHeaders(request.headers);
    let requestId = request.headers.get('x-request-id');
    // Forward a request id even when no proxy set one, so every hop's log lines for one call share it.
    if (!requestId) request.headers.set('x-request-id', (requestId = randomUUID()));
    const pathname = pathOf(request.url);
    const route = routeOf(pathname);
    const malformed = malformedPath(pathname);
    const response = malformed
      ? jsonError(400, malformed)
      : tracing && !UNTRACED_ROUTES.has(route)
        ? await handleTraced(request, route, pathname, requestId)
        : await handleUntraced(request, route, requestId);
    response.headers.set('x-request-id', requestId);
    if (ignored.length > 0) response.headers.set('x-ignored-headers', ignored.map((i) => `${i.name} (${i.reason})`).join(', '));
    // From the moment this role drains, every answer says it closes its connection: a client that kept it alive would
    // otherwise send its next request on a socket the server is about to close, and lose that request.
    if (deps.lifecycle.phase === 'draining') response.headers.set('connection', 'close');
    deps.metrics.request(request.method, route, response.status, (performance.now() - started) / 1000);
    return response;
  };
  return { handle };
}
