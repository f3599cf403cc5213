/**
 * The greeting every role answers with, the entry that stands in for a failed upstream subtree, and a role's answer as a whole:
 * what happened, in no protocol's words (http/ and grpc/ say it in status codes).
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';

export interface Greeting {
  id: string;
  service: string;
  message: string;
  /** ISO 8601, UTC. */
  created: string;
  hostname: string;
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

export function makeGreeting(service: string, message: string): Greeting {
  return { id: randomUUID(), service, message, created: new Date().toISOString(), hostname: HOST };
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
  return undefined;
}

export function isUpstreamError(entry: unknown): entry is UpstreamError {
  return typeof entry === 'object' && entry !== null && typeof (entry as UpstreamError).error === 'string';
}
