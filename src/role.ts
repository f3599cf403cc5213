/**
 * Makes a running role out of its settings: picks the capabilities the config asks for (fan-out, store, publish, consume,
 * edge), wraps the transport, the store and the queue once with their telemetry, serves it all, connects the data plane, and
 * stops it in the order a rolling update needs.
 */
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import { instrumentQueue, instrumentStore } from './backends/instrumented';
import type { RoleBackends, Subscription } from './backends/types';
import { greet } from './capabilities/greet';
import { consumeGreetings } from './capabilities/consume';
import { publishSink, storeSink, type Sink } from './capabilities/sinks';
import { topology } from './capabilities/topology';
import { workloadName } from './config/facts';
import type { PlatformConfig } from './config/schema';
import type { RoleSettings } from './config/settings';
import { createApp, type Handler } from './http/app';
import { httpClient } from './http/client';
import { listen, type Listening } from './http/serve';
import { Lifecycle, type Dependency } from './serving/lifecycle';
import { ROUTING_HEADER } from './serving/routing-headers';
import { reportExports } from './telemetry/export-report';
import type { Logger } from './telemetry/log';
import { createMetrics } from './telemetry/metrics';
import { createTracing } from './telemetry/tracing';
import type * as GrpcClientModule from './grpc/client';
import type * as GrpcMetricsModule from './grpc/metrics';
import type * as GrpcServerModule from './grpc/server';
import { CallLimiter, limitCalls } from './transport/call-limit';
import { perUpstream } from './transport/per-upstream';
import { meteredTransport, tracedTransport } from './transport/instrumented';
import type { UpstreamTransport } from './transport/upstream';

export interface RunningRole {
  settings: RoleSettings;
  port: number;
  /** Where it serves gRPC, when it does. */
  grpcPort?: number;
  handle: Handler;
  lifecycle: Lifecycle;
  /** Readiness false, then keep serving for the drain delay. */
  drain(): Promise<void>;
  /** Stop serving and consuming, once in-flight requests are answered; spans are not flushed yet. Idempotent. */
  stopServing(): Promise<void>;
  /** stopServing, then flush the spans. The backends stay open: whoever made them closes them. */
  close(): Promise<void>;
  /** drain, then close. */
  stop(): Promise<void>;
}

export interface RoleOptions {
  log: Logger;
  /** The transport to upstreams in place of the runtime's HTTP client (tests). */
  transport?: UpstreamTransport;
  /** Bind address; the platform binds 127.0.0.1, a pod 0.0.0.0. */
  hostname?: string;
  /** Where spans go instead of ZIPKIN_URL or OTLP (tests); any of them turns tracing on. */
  spanExporter?: SpanExporter;
  /**
   * The calls in flight this role may make, when it shares them: the versions of one role in one process do (they call the
   * same upstreams, so no call of one can wait on a budget its own answer needs). Default: its own, of upstreamMaxInFlight.
   */
  callLimiter?: CallLimiter;
}

/** Retry a failed first connect at this pace (the stores also retry on their own; this covers a connect() that gives up). */
const CONNECT_RETRY_MS = 2000;

/** A role's dependencies as readiness sees them: each backend it has, by kind. */
function dependenciesOf({ store, queue }: RoleBackends): Dependency[] {
  const dependencies: Dependency[] = [];
  for (const [what, backend] of [['store', store], ['queue', queue]] as const)
    if (backend) dependencies.push({ name: `${what}:${backend.kind}`, isReady: () => backend.isReady(), notReadyReason: () => backend.notReadyReason?.() });
  return dependencies;
}

export function buildRole(settings: RoleSettings, config: PlatformConfig, backends: RoleBackends, options: RoleOptions) {
  const { log } = options;
  const lifecycle = new Lifecycle(dependenciesOf(backends));
  const app = workloadName(settings.id);
  const metrics = createMetrics({ role: settings.id, app, version: settings.version, isReady: () => lifecycle.readiness().ready });
  // One provider per role, even when several roles share this process: each span must carry its own role's service.name.
  const tracing = createTracing({
    serviceName: app,
    version: settings.version,
    zipkinUrl: settings.zipkinUrl,
    otlp: settings.otlp,
    sampleRatio: settings.traceSampleRatio,
    propagators: settings.propagators,
    resourceAttributes: settings.resourceAttributes,
    exporter: options.spanExporter,
    onExport: reportExports(metrics, log),
  });
  const telemetry = { metrics, tracing };
  const store = backends.store && instrumentStore(backends.store, telemetry);
  const queue = backends.queue && instrumentQueue(backends.queue, telemetry);
  // The gRPC stack (grpc-js, protobuf-es: tens of megabytes and milliseconds) loads only in a role that speaks gRPC.
  const needsGrpc = settings.grpcPort !== undefined || settings.upstreams.some((u) => u.transport === 'grpc');
  const grpc = needsGrpc ? { module: grpcModules(), metrics: grpcModules().metrics.createGrpcMetrics(metrics.registry, settings.id) } : undefined;
  const clients = {
    http: options.transport ?? httpClient(settings.upstreamMaxAnswerBytes),
    grpc: grpc && !options.transport ? new grpc.module.client.GrpcClient(grpc.metrics, settings.upstreamMaxAnswerBytes) : undefined,
  };
  const base = clients.grpc ? perUpstream((u) => (u.transport === 'grpc' ? clients.grpc! : clients.http)) : clients.http;
  // Each role waits only for its own calls (call-limit.ts): roles sharing a process cannot starve one another.
  let transport = meteredTransport(limitCalls(base, options.callLimiter ?? new CallLimiter(settings.upstreamMaxInFlight)), metrics);
  if (tracing) transport = tracedTransport(transport, tracing);
  const sinks: Sink[] = [];
  if (settings.store) sinks.push(storeSink(need(store, 'store'), settings.store));
  if (settings.publish) sinks.push(publishSink(need(queue, 'queue'), settings.publish.queue));
  const respond = (forward: Record<string, string>, withinMs?: number) => greet({ settings, transport, sinks, log }, forward, withinMs);
  const serveGrpc = grpc && settings.grpcPort !== undefined
    ? (hostname: string | undefined) =>
        grpc.module.server.serveGrpc({ port: settings.grpcPort!, hostname, greet: respond, tracing, lifecycle, metrics: grpc.metrics, log })
    : undefined;
  const { handle } = createApp({
    greet: (forward) => respond(forward),
    metrics,
    tracing,
    lifecycle,
    log,
    edge: settings.edge && { ...settings.edge, topology: topology(config, settings.traceUiUrl, ROUTING_HEADER) },
  });
  return { handle, lifecycle, metrics, tracing, store, queue, serveGrpc, closeClients: () => clients.grpc?.close() };
}

/** Loaded on first use: `require` keeps buildRole synchronous, and Bun and the Node bundle both resolve it to what they bundle. */
function grpcModules() {
  return {
    client: require('./grpc/client') as typeof GrpcClientModule,
    server: require('./grpc/server') as typeof GrpcServerModule,
    metrics: require('./grpc/metrics') as typeof GrpcMetricsModule,
  };
}

export async function startRole(
  settings: RoleSettings,
  config: PlatformConfig,
  backends: RoleBackends,
  options: RoleOptions,
): Promise<RunningRole> {
  const { log } = options;
  const { handle, lifecycle, tracing, store, queue, serveGrpc, closeClients } = buildRole(settings, config, backends, options);
  // Listen before connecting: liveness answers at once, readiness stays false until the data plane is up.
  const server: Listening = await listen(handle, {
    port: settings.port,
    hostname: options.hostname,
    answerWithinMs: settings.upstreamTimeoutMs,
    onHandlerError: (err) => log.error('request failed outside the app', { error: err as Error }),
  });
  const grpcServer = await serveGrpc?.(options.hostname).catch(async (err: unknown) => {
    await server.stop();
    throw err;
  });
  lifecycle.phase = 'serving';
  let stopped = false;
  let serving: Promise<void> | undefined;
  let subscription: Subscription | undefined;
  let wakeRetry = () => {};

  // Connecting runs in the background and never holds up a stop: a stop during an outage must not wait out a connect timeout.
  const connect = async (): Promise<void> => {
    while (!stopped) {
      try {
        await Promise.all([backends.store?.connect(), backends.queue?.connect()]);
        if (!settings.consume || stopped) return;
        const started = await consumeGreetings(need(queue, 'queue'), need(store, 'store'), settings.consume, log);
        // A stop that came while subscribing: the subscription has no one left to cancel it.
        if (stopped) await started.cancel();
        else subscription = started;
        return;
      } catch (err) {
        if (stopped) return;
        log.warn('data plane not reachable yet, retrying', { error: err as Error, retryInMs: CONNECT_RETRY_MS });
        await new Promise<void>((r) => {
          const timer = setTimeout(r, CONNECT_RETRY_MS);
          wakeRetry = () => (clearTimeout(timer), r());
        });
      }
    }
  };
  void connect();
  log.info('serving', {
    port: server.port,
    ...(grpcServer && { grpcPort: grpcServer.port }),
    upstreams: settings.upstreams.map((u) => u.id),
    version: settings.version,
    // Where spans go, never the OTLP headers (they hold tokens); the URLs may carry credentials too, so only their hosts.
    tracing: tracing
      ? {
          sampleRatio: settings.traceSampleRatio,
          propagators: settings.propagators,
          exporters: [settings.zipkinUrl && `zipkin ${new URL(settings.zipkinUrl).host}`, settings.otlp && `otlp ${new URL(settings.otlp.url).host}`].filter(Boolean),
        }
      : 'off',
  });
  if (settings.notHonoured.length > 0)
    log.warn('standard OpenTelemetry settings not honoured: a role reports itself as its workload name', { notHonoured: settings.notHonoured, serviceName: workloadName(settings.id) });

  const role: RunningRole = {
    settings,
    port: server.port,
    grpcPort: grpcServer?.port,
    handle,
    lifecycle,
    async drain() {
      lifecycle.phase = 'draining';
      // Keep serving while the drain delay runs: endpoint removal takes seconds to reach every kube-proxy and sidecar,
      // and requests routed here in that window must still be answered, not refused.
      if (settings.drainDelayMs > 0) {
        log.info('draining', { delayMs: settings.drainDelayMs });
        await new Promise((r) => setTimeout(r, settings.drainDelayMs));
      }
    },
    stopServing() {
      if (!serving) {
        stopped = true;
        wakeRetry();
        serving = (async () => {
          // Both listeners at once: in-flight calls finish on each, within the shutdown budget.
          await Promise.all([server.stop(), grpcServer?.stop(settings.shutdownTimeoutMs)]);
          await subscription?.cancel();
          closeClients();
        })();
      }
      return serving;
    },
    async close() {
      await role.stopServing();
      // Last: the spans of the requests and messages just finished are in the batch, and must reach the collector.
      await tracing?.shutdown();
      log.info('stopped');
    },
    async stop() {
      await role.drain();
      await role.close();
    },
  };
  return role;
}

function need<T>(backend: T | undefined, what: string): T {
  if (!backend) throw new Error(`role needs a ${what} backend but none was given`);
  return backend;
}
