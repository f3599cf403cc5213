/**
 * The edge's CORS policy, described once: the app enforces it (cors.ts), and the render writes the same policy into the
 * Istio ingress VirtualService (scripts/render/mesh.ts), so the browser meets one policy whichever answers its preflight.
 */
import type { EdgeSettings } from '../config/settings';
import { ROUTING_HEADERS } from '../serving/routing-headers';
import { TRACING_HEADERS } from '../telemetry/tracing-headers';

export interface CorsPolicy {
  /** Exact origins as browsers send them, or `*`. */
  allowOrigins: string[];
  allowCredentials: boolean;
  allowMethods: string[];
  /**
   * What the UI and the original's UI send: Content-Type, the tracing headers (the UI starts a B3 trace itself) and the
   * routing headers (the UI's "user" field, for a dark launch by header).
   */
  allowHeaders: string[];
  /** What the UI reads: per-hop timing, the request id, the trace id it links, the headers the edge dropped. */
  exposeHeaders: string[];
  maxAgeSeconds: number;
}

export function corsPolicy(edge: Pick<EdgeSettings, 'allowedOrigins' | 'allowCredentials'>): CorsPolicy {
  return {
    allowOrigins: edge.allowedOrigins,
    allowCredentials: edge.allowCredentials,
    allowMethods: ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'],
    allowHeaders: ['content-type', 'authorization', 'accept', ...TRACING_HEADERS, ...ROUTING_HEADERS],
    exposeHeaders: ['server-timing', 'x-request-id', 'x-b3-traceid', 'x-ignored-headers'],
    maxAgeSeconds: 600,
  };
}
