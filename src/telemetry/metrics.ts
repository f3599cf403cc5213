/**
 * The metric set of one role, in a registry of its own: the local platform runs several roles in one process, and each must
 * expose only its own series. Every series carries `app` and `version` (what Istio and Kiali read) as default labels.
 *
 * The request and upstream latency histograms carry exemplars: per bucket, the trace id (`trace_id`) of the latest request
 * that landed there and is recorded in a trace, so a dashboard can jump from a latency spike to a trace that shows it. Only
 * the OpenMetrics format can say them; the scrape gets it when its Accept asks for it (exposition.ts).
 */
import { exposition, withExemplars } from './exposition';
import { bindCounter, bindHistogram, type BoundCounter, type BoundHistogram } from './bound-series';
import { Counter, Gauge, Histogram, Registry, defaultMetricsOnDemand } from './prom';

/** The exemplar's one label: Grafana's Prometheus data source names it to link a bucket to its trace (deploy/istio/addons/). */
export const EXEMPLAR_LABEL = 'trace_id';

/** Millisecond-scale services: most hops answer in 0.5 to 25 ms, the tail reaches the upstream timeout. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export interface MetricsOptions {
  role: string;
  app: string;
  version: string;
  /** Read at every scrape, so the gauge is never stale (no timer to keep in step with the lifecycle). */
  isReady?: () => boolean;
}

/** Which runtime really runs us: Bun reports a Node-compatible `process.version`, which alone would mislead. */
export function runtimeInfo(): { runtime: string; runtimeVersion: string; nodeCompat: string } {
  const bun = (globalThis as { Bun?: { version: string } }).Bun;
  return bun
    ? { runtime: 'bun', runtimeVersion: bun.version, nodeCompat: process.version }
    : { runtime: 'node', runtimeVersion: process.version, nodeCompat: process.version };
}

export function createMetrics({ role, app, version, isReady }: MetricsOptions) {
  const registry = new Registry();
  registry.setDefaultLabels({ app, version });
  const registerDefaults = defaultMetricsOnDemand(registry);
  const registers = [registry];

  const requests = new Counter({
    name: 'http_server_requests_total',
    help: 'Inbound HTTP requests by route template and status.',
    labelNames: ['role', 'method', 'route', 'status'] as const,
    registers,
  });
  const requestDuration = withExemplars(registry, () =>
    new Histogram({
      name: 'http_server_request_duration_seconds',
      help: 'Inbound HTTP request duration by route template and status.',
      labelNames: ['role', 'method', 'route', 'status'] as const,
      buckets: LATENCY_BUCKETS,
      registers,
      enableExemplars: true,
    }),
  );
  const upstreamDuration = withExemplars(registry, () =>
    new Histogram({
      name: 'upstream_request_duration_seconds',
      help: 'Calls to upstream roles by outcome (an HTTP status, timeout or error).',
      labelNames: ['role', 'upstream', 'outcome'] as const,
      buckets: LATENCY_BUCKETS,
      registers,
      enableExemplars: true,
    }),
  );
  const storeDuration = new Histogram({
    name: 'mongodb_operation_duration_seconds',
    help: 'Store operations by collection and result.',
    labelNames: ['role', 'collection', 'operation', 'result'] as const,
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const storeErrors = new Counter({
    name: 'mongodb_operation_errors_total',
    help: 'Store operations that failed, by collection.',
    labelNames: ['role', 'collection', 'operation'] as const,
    registers,
  });
  const published = new Counter({
    name: 'amqp_messages_published_total',
    help: 'Greetings published, by result: confirmed by the broker or refused (not confirmed, the caller got 503).',
    labelNames: ['role', 'queue', 'result'] as const,
    registers,
  });
  const consumed = new Counter({
    name: 'amqp_messages_consumed_total',
    help: 'Messages consumed, by disposition: acked, requeued or dead_lettered.',
    labelNames: ['role', 'queue', 'disposition'] as const,
    registers,
  });
  const spansExported = new Counter({
    name: 'tracing_spans_exported_total',
    help: 'Spans sent to the trace collector, by exporter (zipkin, otlp) and result: ok, or failed (the collector did not take the batch; those spans are lost).',
    labelNames: ['role', 'exporter', 'result'] as const,
    registers,
  });
  new Gauge({
    name: 'greeting_mesh_ready',
    help: '1 while the role reports ready (what /api/ready answers), else 0.',
    labelNames: ['role'] as const,
    registers,
    collect() {
      this.set({ role }, isReady?.() ? 1 : 0);
    },
  });
  const rt = runtimeInfo();
  new Gauge({
    name: 'greeting_mesh_build_info',
    help: 'Always 1; the labels say what runs.',
    labelNames: ['role', 'service_version', 'runtime', 'runtime_version', 'node_compat_version'] as const,
    registers,
  }).set({ role, service_version: version, runtime: rt.runtime, runtime_version: rt.runtimeVersion, node_compat_version: rt.nodeCompat }, 1);

  // The hot path records a request and an upstream call per hop, and a store operation where a role stores: each series is
  // bound once per label combination (a bounded set: route templates, statuses, upstreams), and observed without prom-client
  // checking and hashing its labels again (bound-series.ts).
  const requestSeries = new Map<string, { count: BoundCounter; duration: BoundHistogram }>();
  const upstreamSeries = new Map<string, BoundHistogram>();
  const storeSeries = new Map<string, BoundHistogram>();
  const queueSeries = new Map<string, BoundCounter>();
  const bound = <S>(series: Map<string, S>, key: string, make: () => S): S => {
    let found = series.get(key);
    if (!found) series.set(key, (found = make()));
    return found;
  };
  const exemplarOf = (trace: string | undefined) => (trace ? { [EXEMPLAR_LABEL]: trace } : undefined);

  const recordRequest = (method: string, route: string, status: number, seconds: number, trace?: string) => {
    const series = bound(requestSeries, `${method} ${route} ${status}`, () => {
      const labels = { role, method, route, status: String(status) };
      return { count: bindCounter(requests, labels), duration: bindHistogram(requestDuration, labels) };
    });
    series.count.inc();
    series.duration.observe(seconds, exemplarOf(trace));
  };

  const metrics = {
    registry,
    /** The registry's text in the format the scraper's Accept header asks for: OpenMetrics (with exemplars) or Prometheus text. */
    exposition: exposition(registry),
    /**
     * `trace`: the trace the request is recorded in (RequestContext.recordedTrace), which the bucket's exemplar then names.
     * The first call also sets up the process's default series, once its answer is on its way (a later turn of the event
     * loop): a role's first answer, its start-up probe's, does not wait for them (prom.ts, defaultMetricsOnDemand).
     */
    request(method: string, route: string, status: number, seconds: number, trace?: string) {
      metrics.request = recordRequest;
      setImmediate(registerDefaults);
      recordRequest(method, route, status, seconds, trace);
    },
    upstream(upstream: string, outcome: string, seconds: number, trace?: string) {
      bound(upstreamSeries, `${upstream} ${outcome}`, () => bindHistogram(upstreamDuration, { role, upstream, outcome })).observe(seconds, exemplarOf(trace));
    },
    storeOperation(collection: string, operation: string, result: 'ok' | 'duplicate' | 'error', seconds: number) {
      bound(storeSeries, `${collection} ${operation} ${result}`, () => bindHistogram(storeDuration, { role, collection, operation, result })).observe(seconds);
      if (result === 'error') storeErrors.inc({ role, collection, operation });
    },
    publish(queue: string, result: 'confirmed' | 'refused') {
      bound(queueSeries, `published ${queue} ${result}`, () => bindCounter(published, { role, queue, result })).inc();
    },
    consume(queue: string, disposition: 'acked' | 'requeued' | 'dead_lettered') {
      bound(queueSeries, `consumed ${queue} ${disposition}`, () => bindCounter(consumed, { role, queue, disposition })).inc();
    },
    spansExported(count: number, result: 'ok' | 'failed', exporter: string) {
      spansExported.inc({ role, exporter, result }, count);
    },
  };
  return metrics;
}

export type Metrics = ReturnType<typeof createMetrics>;
