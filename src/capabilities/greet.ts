/**
 * A role's answer to a greeting request: its upstreams' greetings in config order, then its own. Upstream calls and the
 * role's own sinks (store, publish) run at the same time; nothing here outlives the request, so concurrent requests share no
 * state. The answer says what happened (capabilities know no protocol): http/ and grpc/ say it in their own words.
 */
import type { RoleSettings } from '../config/settings';
import { makeGreeting, type Greeting, type HopTiming, type RoleAnswer } from '../greeting';
import type { Logger } from '../telemetry/log';
import type { UpstreamTransport } from '../transport/upstream';
import { injectChaos } from './chaos';
import { fanOut } from './fan-out';
import type { Sink } from './sinks';

export interface GreetDeps {
  settings: RoleSettings;
  transport: UpstreamTransport;
  sinks: Sink[];
  log: Logger;
}

/** Margin kept from the caller's deadline, so this role's answer (partial if it must) reaches the caller in time. */
const DEADLINE_MARGIN_MS = 50;

/** `withinMs`: how long the caller still waits (a gRPC deadline), when it said; each upstream call gets no longer than that. */
export async function greet(deps: GreetDeps, headers: Record<string, string>, withinMs?: number): Promise<RoleAnswer> {
  const { settings } = deps;
  const started = performance.now();
  const own = (): HopTiming => ({ id: settings.id, name: settings.name, durationMs: performance.now() - started });

  const chaosError = settings.chaos.latencyMs > 0 || settings.chaos.errorRate > 0 ? await injectChaos(settings.chaos) : undefined;
  if (chaosError) return { outcome: 'failed', error: { service: settings.name, error: chaosError }, timings: [own()] };

  const greeting = makeGreeting(settings.name, settings.greeting, settings.version);
  const [subtree, sinkFailure] = await Promise.all([
    settings.upstreams.length > 0 ? fanOut(deps.transport, settings.upstreams, headers, timeoutWithin(settings.upstreamTimeoutMs, withinMs)) : undefined,
    runSinks(deps.sinks, greeting, headers),
  ]);
  if (sinkFailure) deps.log.error('greeting not accepted by its sink', { reason: sinkFailure });
  if (subtree && subtree.failed.length > 0) deps.log.warn('upstreams failed', { failed: subtree.failed });
  if (sinkFailure) return { outcome: 'refused', error: { service: settings.name, error: sinkFailure }, timings: [own()] };
  if (!subtree) return { outcome: 'whole', entries: [greeting], timings: [own()] };
  subtree.entries.push(greeting);
  return { outcome: subtree.degraded ? 'partial' : 'whole', entries: subtree.entries, timings: [own(), ...subtree.timings] };
}

function timeoutWithin(timeoutMs: number, withinMs: number | undefined): number {
  return withinMs === undefined ? timeoutMs : Math.max(1, Math.min(timeoutMs, withinMs - DEADLINE_MARGIN_MS));
}

/** Runs every sink; the reasons of those that failed, joined, or undefined when all accepted the greeting. */
async function runSinks(sinks: Sink[], greeting: Greeting, headers: Record<string, string>): Promise<string | undefined> {
  if (sinks.length === 0) return undefined;
  // Every role but a future one has at most one sink: no settled-array for it (this runs on every request).
  if (sinks.length === 1)
    return sinks[0]!.accept(greeting, headers).then(
      () => undefined,
      (err: unknown) => (err as Error).message,
    );
  const results = await Promise.allSettled(sinks.map((sink) => sink.accept(greeting, headers)));
  const reasons = results.flatMap((r) => (r.status === 'rejected' ? [(r.reason as Error).message] : []));
  return reasons.length > 0 ? reasons.join('; ') : undefined;
}
