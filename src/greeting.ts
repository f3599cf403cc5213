/** The greeting every role answers with, and the entry that stands in for a failed upstream subtree. */
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
