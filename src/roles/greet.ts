/**
 * A role's answer to `GET /api/greeting`: its upstreams' greetings in config order, then its own. Upstream calls and the
 * role's own sinks (store, publish) run at the same time; nothing here outlives the request, so concurrent requests share no state.
 */
import type { RoleSettings } from '../config/settings';
import { makeGreeting, type GreetingEntry } from '../greeting';
import { injectChaos } from './chaos';
import { fanOut, type FanOutDeps } from './fan-out';
import type { Logger } from '../telemetry/log';
import type { Sink } from './sinks';

export interface GreetAnswer {
  status: 200 | 500 | 502 | 503;
  body: GreetingEntry[] | { service: string; error: string };
  /** Server-Timing header value: this role's duration, then its whole subtree's. */
  serverTiming: string;
}

export interface GreetDeps extends FanOutDeps {
  settings: RoleSettings;
  sinks: Sink[];
  log: Logger;
}

export async function greet(deps: GreetDeps, headers: Record<string, string>): Promise<GreetAnswer> {
  const { settings } = deps;
  const started = performance.now();
  const timing = (subtree: string[] = []) =>
    [`${settings.id};dur=${(performance.now() - started).toFixed(2)};desc="${headerSafe(settings.name)}"`, ...subtree].join(', ');

  const chaosError = settings.chaos.latencyMs > 0 || settings.chaos.errorRate > 0 ? await injectChaos(settings.chaos) : undefined;
  if (chaosError) return { status: 500, body: { service: settings.name, error: chaosError }, serverTiming: timing() };

  const own = makeGreeting(settings.name, settings.greeting);
  const [subtree, sinkFailure] = await Promise.all([
    settings.upstreams.length > 0 ? fanOut(deps, settings.upstreams, headers) : undefined,
    runSinks(deps.sinks, own, headers),
  ]);
  if (sinkFailure) deps.log.error('greeting not accepted by its sink', { reason: sinkFailure });
  if (subtree && subtree.failed.length > 0) deps.log.warn('upstreams failed', { failed: subtree.failed });
  if (sinkFailure) return { status: 503, body: { service: settings.name, error: sinkFailure }, serverTiming: timing() };
  if (!subtree) return { status: 200, body: [own], serverTiming: timing() };
  subtree.entries.push(own);
  return { status: subtree.degraded ? 502 : 200, body: subtree.entries, serverTiming: timing(subtree.timings) };
}

/** Runs every sink; the reasons of those that failed, joined, or undefined when all accepted the greeting. */
async function runSinks(sinks: Sink[], greeting: ReturnType<typeof makeGreeting>, headers: Record<string, string>) {
  if (sinks.length === 0) return undefined;
  const results = await Promise.allSettled(sinks.map((sink) => sink.accept(greeting, headers)));
  const reasons = results.flatMap((r) => (r.status === 'rejected' ? [(r.reason as Error).message] : []));
  return reasons.length > 0 ? reasons.join('; ') : undefined;
}

/** A header value must be Latin-1 and a quoted string must not hold quotes: a SERVICE_NAME like "Sërvice «A»" is shown as "S?rvice ?A?". */
function headerSafe(text: string): string {
  return text.replace(/[^\x20-\x7e]|["\\]/g, '?');
}
