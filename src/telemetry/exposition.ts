/**
 * A role's metrics as the scraper asks for them. Prometheus (2.x, from its default Accept) and Istio's agent, which passes the
 * scraper's Accept through when it merges the app's metrics into the sidecar's (istio/istio#33550), prefer OpenMetrics: that
 * is the format that carries exemplars. Anything else (curl, an old scraper) gets the Prometheus text format, as before.
 *
 * prom-client can write both, from one registry switched to OpenMetrics for the one scrape, but its OpenMetrics writer renames
 * each counter on the metric object itself (`http_server_requests_total` becomes `http_server_requests`) and never renames it
 * back, so the next Prometheus-text scrape would print counters without `_total`. Each scrape therefore runs alone, and an
 * OpenMetrics one restores the names and the registry's format when it is done.
 */
import type { RegistryContentType } from 'prom-client';
import { Registry } from './prom';

export interface Scrape {
  body: string;
  contentType: string;
}

export type Exposition = (accept: string | null | undefined) => Promise<Scrape>;

const OPENMETRICS = 'application/openmetrics-text';

/** The highest q the Accept header gives a media type (0 when it does not accept it), `*` ranges included. */
function quality(accept: string, type: string, exactOnly = false): number {
  let best = 0;
  for (const range of accept.split(',')) {
    const [media, ...params] = range.split(';').map((p) => p.trim().toLowerCase());
    const matches = media === type || (!exactOnly && (media === '*/*' || media === `${type.split('/')[0]}/*`));
    if (!matches) continue;
    const q = params.find((p) => p.startsWith('q='));
    const value = q === undefined ? 1 : Number(q.slice(2));
    if (Number.isFinite(value)) best = Math.max(best, value);
  }
  return best;
}

/** Whether the scraper prefers OpenMetrics: it names it, with a q at least as high as anything that would mean plain text. */
export function wantsOpenMetrics(accept: string | null | undefined): boolean {
  if (!accept) return false;
  const om = quality(accept, OPENMETRICS, true);
  return om > 0 && om >= quality(accept, 'text/plain');
}

/** The registry typed for both formats: it is made for Prometheus text, and switched only for the length of a call here. */
const switchable = (registry: Registry) => registry as unknown as Registry<RegistryContentType>;

/** Makes a metric with exemplars, which prom-client allows only on a registry set to OpenMetrics at that moment. */
export function withExemplars<T>(registry: Registry, make: () => T): T {
  switchable(registry).setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
  try {
    return make();
  } finally {
    switchable(registry).setContentType(Registry.PROMETHEUS_CONTENT_TYPE);
  }
}

export function exposition(registry: Registry): Exposition {
  let last: Promise<unknown> = Promise.resolve();
  const text = async (): Promise<Scrape> => ({ body: await registry.metrics(), contentType: Registry.PROMETHEUS_CONTENT_TYPE });
  const openMetrics = async (): Promise<Scrape> => {
    const names = registry.getMetricsAsArray().map((metric) => [metric, metric.name] as const);
    switchable(registry).setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
    try {
      return { body: await registry.metrics(), contentType: Registry.OPENMETRICS_CONTENT_TYPE };
    } finally {
      switchable(registry).setContentType(Registry.PROMETHEUS_CONTENT_TYPE);
      for (const [metric, name] of names) (metric as { name: string }).name = name;
    }
  };
  return (accept) => {
    const scrape = last.then(wantsOpenMetrics(accept) ? openMetrics : text);
    last = scrape.catch(() => undefined);
    return scrape;
  };
}
