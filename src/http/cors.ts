/**
 * CORS at the edge, from the one policy (cors-policy.ts): the plugin adds the CORS headers to every answer to a request that
 * carries an Origin (app.ts sends the others past it, with `Vary: Origin`, as the original's rs/cors did); the preflight
 * itself is a route of ours (app.ts answers OPTIONS on every path of the route table), so it is counted by route like any
 * request, and an OPTIONS never runs the fan-out (the original routed OPTIONS to the greeting handler). Headers are listed
 * explicitly: the plugin's defaults mirror the request.
 *
 * Origins are matched by a predicate of ours, exactly, as whole strings: given strings, the plugin looks them up in a plain
 * object (so `toString` and `__proto__` matched) and strips anything up to `://` from the request's origin first (so
 * `x://http://ui.example.test` matched `http://ui.example.test`).
 */
import { cors } from '@elysiajs/cors';
import { Elysia } from 'elysia';
import type { EdgeSettings } from '../config/settings';
import { corsPolicy } from './cors-policy';

export function edgeCors(edge: Pick<EdgeSettings, 'allowedOrigins' | 'allowCredentials'>) {
  const policy = corsPolicy(edge);
  const allowed = new Set(policy.allowOrigins);
  const isAllowed = (request: Request) => allowed.has(request.headers.get('origin') ?? '');
  const plugin = cors({
    origin: allowed.has('*') ? '*' : isAllowed,
    credentials: false,
    methods: policy.allowMethods,
    allowedHeaders: policy.allowHeaders,
    exposeHeaders: policy.exposeHeaders,
    maxAge: policy.maxAgeSeconds,
    preflight: false,
  });
  if (!policy.allowCredentials) return plugin;
  // Credentials only to an allowed origin (the plugin would send them on every answer); `*` with credentials never gets
  // here: the config and the environment are validated, and both refuse it. Registered before the plugin, so its preflight
  // answer carries the header too.
  const credentials = new Elysia({ name: 'edge-cors-credentials' }).onRequest(({ request, set }) => {
    if (isAllowed(request)) set.headers['access-control-allow-credentials'] = 'true';
  });
  return new Elysia({ name: 'edge-cors' }).use(credentials).use(plugin);
}
