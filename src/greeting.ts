/**
 * The greeting every role answers with, the entry that stands in for a failed upstream subtree, and a role's answer as a whole:
 * what happened, in no protocol's words (http/ and grpc/ say it in status codes).
 */
import { hostname } from 'node:os';

export interface Greeting {
  id: string;
  service: string;
  message: string;
  /** ISO 8601, UTC. */
  created: string;
  hostname: string;
  /**
   * Which version of the role answered (its `version` label, what Istio routes by). Added after the original's five fields:
   * a client that ignores unknown keys is unaffected, and an upstream that sends none (the original) is still a greeting.
   */
  version?: string;
}

/** Stands in the answer where an upstream's subtree failed: which service, why, and at which URL. */
export interface UpstreamError {
  service: string;
  error: string;
  upstream: string;
}

export type GreetingEntry = Greeting | UpstreamError;

/** How long one role of a subtree took to answer (the HTTP transport carries these as Server-Timing). */
export interface HopTiming {
  id: string;
  name: string;
  durationMs: number;
}

/** A header value must be Latin-1 and a quoted string must not hold quotes: a SERVICE_NAME like "Sërvice «A»" is shown as "S?rvice ?A?". */
const UNSAFE = /[^\x20-\x7e]|["\\]/;
const EVERY_UNSAFE = new RegExp(UNSAFE.source, 'g');
function headerSafe(text: string): string {
  // Tested before replacing: names almost always are safe, and a test neither copies nor allocates.
  return UNSAFE.test(text) ? text.replace(EVERY_UNSAFE, '?') : text;
}

/** The timings in Server-Timing syntax (`a;dur=1.63;desc="Service A", ...`): the HTTP header and the gRPC trailer alike. */
export function formatTimings(timings: HopTiming[]): string {
  let out = '';
  for (const t of timings) out += `${out ? ', ' : ''}${t.id};dur=${t.durationMs.toFixed(2)};desc="${headerSafe(t.name)}"`;
  return out;
}

/** Far more hops than any chain has: what an upstream sends beyond it is not passed on. */
const MAX_TIMINGS = 256;
/** A Server-Timing metric name is a token; anything else from an upstream (`bé`, a space) would make our own header invalid. */
const TIMING_ID = /^[A-Za-z0-9_.-]{1,64}$/;

/**
 * Timings back from Server-Timing syntax. Entries without a duration or with an id that is not a token are skipped, and at
 * most MAX_TIMINGS are kept: an upstream's header is passed on in ours (and in a gRPC trailer, which refuses non-ASCII).
 */
export function parseTimings(header: string | null | undefined): HopTiming[] {
  if (!header) return [];
  return ownTimings(header) ?? anyTimings(header);
}

/**
 * What every role of ours sends, exactly as formatTimings writes it (`id;dur=1.63;desc="Name", ...`), read by one sticky
 * regex: a fan-out role parses every upstream's header, and the general parser below (split, trim, slice per parameter) was
 * 3-4% of a fan-out role's CPU in a profile. Anything else, or anything unusual, is left to the general parser: undefined.
 */
const OWN_TIMING = /([A-Za-z0-9_.-]{1,64});dur=(\d{1,9}(?:\.\d{1,6})?);desc="([\x20\x21\x23-\x5b\x5d-\x7e]*)"(, |$)/y;

function ownTimings(header: string): HopTiming[] | undefined {
  const timings: HopTiming[] = [];
  OWN_TIMING.lastIndex = 0;
  while (OWN_TIMING.lastIndex < header.length) {
    const m = OWN_TIMING.exec(header);
    if (!m) return undefined;
    timings.push({ id: m[1]!, name: m[3]!, durationMs: Number(m[2]) });
    if (m[4] === '' || timings.length === MAX_TIMINGS) break;
  }
  return timings;
}

function anyTimings(header: string): HopTiming[] {
  const timings: HopTiming[] = [];
  for (const part of header.split(',', MAX_TIMINGS)) {
    const [rawId, ...params] = part.split(';');
    // Spaces may stand around each `;` (OWS in the header's grammar).
    const id = rawId!.trim();
    let durationMs = NaN;
    let name = '';
    for (const param of params) {
      const eq = param.indexOf('=');
      const key = param.slice(0, eq).trim();
      const value = param.slice(eq + 1).trim();
      if (key === 'dur') durationMs = Number(value);
      else if (key === 'desc') name = value.replace(/^"(.*)"$/, '$1');
    }
    if (id && TIMING_ID.test(id) && Number.isFinite(durationMs)) timings.push({ id, name: headerSafe(name), durationMs });
  }
  return timings;
}

/** A role's own failure: the service and why, shown where its greetings would be. */
export interface RoleError {
  service: string;
  error: string;
}

/**
 * A role's answer to a greeting request:
 * - `whole`: every greeting of its subtree, then its own;
 * - `partial`: the same, with an error entry in place of each subtree that failed;
 * - `refused`: its store or queue did not take its greeting (a dependency is down);
 * - `failed`: it failed itself (staged chaos).
 * `timings` holds this role's own time first, then its subtree's.
 */
export type RoleAnswer =
  | { outcome: 'whole' | 'partial'; entries: GreetingEntry[]; timings: HopTiming[] }
  | { outcome: 'refused' | 'failed'; error: RoleError; timings: HopTiming[] };

const HOST = hostname();

// The ids come from Web Crypto's randomUUID (a global in Bun and Node): importing node:crypto for it cost every start 2 ms.
export function makeGreeting(service: string, message: string, version?: string): Greeting {
  const greeting: Greeting = { id: crypto.randomUUID(), service, message, created: new Date().toISOString(), hostname: HOST };
  if (version) greeting.version = version;
  return greeting;
}

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

/** Why a value is not a well-formed greeting, or undefined when it is one. */
export function greetingProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a JSON object';
  const g = value as Record<string, unknown>;
  if (typeof g.id !== 'string' || !UUID_V4.test(g.id)) return 'id is not a uuid v4';
  for (const field of ['service', 'message', 'hostname'] as const)
    if (typeof g[field] !== 'string' || g[field] === '') return `${field} is not a non-empty string`;
  if (typeof g.created !== 'string' || Number.isNaN(Date.parse(g.created))) return 'created is not an ISO 8601 time';
  if (g.version !== undefined && typeof g.version !== 'string') return 'version is not a string';
  return undefined;
}

export function isUpstreamError(entry: unknown): entry is UpstreamError {
  return typeof entry === 'object' && entry !== null && typeof (entry as UpstreamError).error === 'string';
}
