/**
 * CORS at the edge, from ALLOWED_ORIGINS. Preflights are answered before routing, so an OPTIONS never runs the fan-out
 * (the original routed OPTIONS to the greeting handler). Headers are listed explicitly: the plugin's defaults mirror the request.
 *
 * Origins are matched by a predicate of ours, exactly, as whole strings: given strings, the plugin looks them up in a plain
 * object (so `toString` and `__proto__` matched) and strips anything up to `://` from the request's origin first (so
 * `x://http://ui.example.test` matched `http://ui.example.test`).
 */
import { cors } from '@elysiajs/cors';
import { Elysia } from 'elysia';
import { TRACING_HEADERS } from '../../telemetry/tracing-headers';

export interface CorsOptions {
  allowedOrigins: string[];
  allowCredentials: boolean;
}

export function edgeCors({ allowedOrigins, allowCredentials }: CorsOptions) {
  const allowed = new Set(allowedOrigins);
  const isAllowed = (request: Request) => allowed.has(request.headers.get('origin') ?? '');
  // Credentials only to an allowed origin (the plugin would send them on every answer); `*` with credentials never gets
  // here: the config and the environment are validated, and both refuse it. Registered before the plugin, so its preflight
  // answer carries the header too.
  const credentials = new Elysia({ name: 'edge-cors-credentials' }).onRequest(({ request, set }) => {
    if (isAllowed(request)) set.headers['access-control-allow-credentials'] = 'true';
  });
  const plugin = cors({
    origin: allowed.has('*') ? '*' : isAllowed,
    credentials: false,
    methods: ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'],
    allowedHeaders: ['Content-Type', 'Authorization', 'Accept', ...TRACING_HEADERS],
    exposeHeaders: ['Server-Timing', 'X-Request-Id', 'X-B3-TraceId', 'X-Ignored-Headers'],
    maxAge: 600,
  });
  return allowCredentials ? new Elysia({ name: 'edge-cors' }).use(credentials).use(plugin) : plugin;
}
