/**
 * The headers the mesh routes by, forwarded on every hop beside the tracing headers. A header-match route deep in the chain
 * (E's sidecar choosing H v2 for one user) sees only what E copied from its own request onto its call: Envoy passes a client's
 * headers to the first app unchanged, and every app must carry them on. This is the one declaration: the serving path forwards
 * these, the CORS policy lets a browser send them, and the render's header-match scenarios match on these names.
 *
 * `end-user`, as in Istio's Bookinfo, whose workshop routes user `jason` to reviews v2. Headers a client sends that no hop
 * forwards (`cookie`, `user-agent`: every app's HTTP client sets its own) can be matched at the first hop only.
 */
import type { HeaderBag } from '../telemetry/tracing-headers';

export const ROUTING_HEADERS = ['end-user'] as const;

export type RoutingHeader = (typeof ROUTING_HEADERS)[number];

/** The header a dark launch matches on (the render's scenarios and the UI's "user" field). */
export const ROUTING_HEADER: RoutingHeader = 'end-user';

export interface IgnoredRoutingHeader {
  name: RoutingHeader;
  reason: string;
}

/** A user name, say: printable ASCII (what every HTTP stack and gRPC metadata accept), bounded so no hop carries a kilobyte. */
const MAX_LENGTH = 128;
const PRINTABLE = /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/;

/** Why a routing header's value cannot be forwarded, or undefined when it can. */
export function routingHeaderProblem(value: string): string | undefined {
  return value.length <= MAX_LENGTH && PRINTABLE.test(value) ? undefined : `not up to ${MAX_LENGTH} printable ASCII characters`;
}

/**
 * Adds the well-formed routing headers of a request to what is forwarded, in one pass beside the tracing headers' one; deletes
 * the malformed ones and returns them with why. Dropped, the request goes on and takes the default route, as a request without
 * the header would.
 */
export function takeRoutingHeaders(headers: HeaderBag, forward: Record<string, string>): IgnoredRoutingHeader[] {
  let ignored: IgnoredRoutingHeader[] | undefined;
  for (const name of ROUTING_HEADERS) {
    const value = headers.get(name);
    if (!value) continue;
    const reason = routingHeaderProblem(value);
    if (!reason) {
      forward[name] = value;
      continue;
    }
    headers.delete(name);
    (ignored ??= []).push({ name, reason });
  }
  return ignored ?? NONE;
}

const NONE: IgnoredRoutingHeader[] = [];
