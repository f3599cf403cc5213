/**
 * CORS at the edge, from ALLOWED_ORIGINS. Preflights are answered before routing, so an OPTIONS never runs the fan-out
 * (the original routed OPTIONS to the greeting handler). Headers are listed explicitly: the plugin's defaults mirror the request.
 */
import { cors } from '@elysiajs/cors';
import { TRACING_HEADERS } from '../../transport/tracing-headers';

export interface CorsOptions {
  allowedOrigins: string[];
  allowCredentials: boolean;
}

export function edgeCors({ allowedOrigins, allowCredentials }: CorsOptions) {
  return cors({
    origin: allowedOrigins,
    // `*` with credentials never gets here: resolveRole refuses it, from the config file or from ALLOWED_ORIGINS.
    credentials: allowCredentials,
    methods: ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'],
    allowedHeaders: ['Content-Type', 'Authorization', 'Accept', ...TRACING_HEADERS],
    exposeHeaders: ['Server-Timing', 'X-Request-Id', 'X-B3-TraceId'],
    maxAge: 600,
  });
}
