/**
 * The HTTP face of a role: its routes, CORS at the edge, JSON errors for everything that goes wrong, and the per-request
 * wrapper that sets the request context (for log lines), counts the request and times it.
 */
import { randomUUID } from 'node:crypto';
import { Elysia } from 'elysia';
import { edgeCors } from '../roles/edge/cors';
import { requestContext } from '../telemetry/log';
import { registerRoutes, ROUTES, type RouteDeps, type RouteSpec } from './routes';

export interface AppDeps extends RouteDeps {
  allowedOrigins?: string[];
  allowCredentials?: boolean;
}

export type Handler = (request: Request) => Promise<Response>;

interface CompiledRoute {
  spec: RouteSpec;
  pattern: RegExp;
}

export function compileRoutes(edge: boolean): CompiledRoute[] {
  return ROUTES.filter((r) => edge || !r.edge).map((spec) => ({
    spec,
    pattern: new RegExp(`^${spec.path.replace(/:[a-z]+/gi, '[^/]+')}/?$`),
  }));
}

export function createApp(deps: AppDeps): { handle: Handler } {
  const edge = deps.topology !== undefined;
  const routes = compileRoutes(edge);
  const jsonError = (status: number, error: string, headers: Record<string, string> = {}) =>
    Response.json({ error }, { status, headers });

  const base = new Elysia();
  if (edge) base.use(edgeCors({ allowedOrigins: deps.allowedOrigins ?? ['*'], allowCredentials: deps.allowCredentials ?? false }));
  const app = base
    .onError(({ code, error, request }) => {
      if (code === 'NOT_FOUND') {
        const { pathname } = new URL(request.url);
        const match = routes.find((r) => r.pattern.test(pathname));
        if (match) return jsonError(405, `method ${request.method} is not allowed on ${match.spec.path}`, { allow: match.spec.method === 'ALL' ? '*' : 'GET, HEAD' });
        return jsonError(404, `no route for ${request.method} ${pathname}`);
      }
      if (code === 'PARSE' || code === 'VALIDATION') return jsonError(400, `bad request: ${(error as Error).message}`);
      deps.log.error('request failed', { error: error as Error });
      return jsonError(500, 'internal error');
    })
    .use(registerRoutes(deps));

  const handle: Handler = async (request) => {
    const started = performance.now();
    const requestId = request.headers.get('x-request-id') ?? randomUUID();
    // Forward a request id even when no proxy set one, so every hop's log lines for one call share it.
    if (!request.headers.has('x-request-id')) request.headers.set('x-request-id', requestId);
    const response = await requestContext.run({ requestId }, () => app.handle(request));
    response.headers.set('x-request-id', requestId);
    const { pathname } = new URL(request.url);
    const route = routes.find((r) => r.pattern.test(pathname))?.spec.path ?? 'unmatched';
    deps.metrics.request(request.method, route, response.status, (performance.now() - started) / 1000);
    return response;
  };
  return { handle };
}
