/**
 * A role's gRPC port, beside its HTTP one: greeting.v3.GreetingService over the role's one greet capability, plus
 * grpc.health.v1.Health (what Kubernetes' `grpc:` probes and grpcurl ask) and server reflection (v1 and v1alpha), on
 * grpc-js's server over node:http2. Under Bun too: Bun.serve cannot send HTTP/2 trailers, so it cannot end a gRPC call;
 * grpc-js on Bun's node:http2 held a 200 x 200 KB parallel soak (grpc.test.ts keeps one), where Connect's server did not.
 *
 * Each call gets the per-request work every server shares (serving/request.ts): its tracing metadata checked, a log context,
 * a SERVER span continuing the caller's trace. The answer goes out as wire.ts says.
 */
import { Metadata, Server, ServerCredentials, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import type { RoleAnswer } from '../greeting';
import { formatTimings } from '../greeting';
import type { Lifecycle } from '../serving/lifecycle';
import { serveRequest, type RequestScope } from '../serving/request';
import { isAddressInUse, PortInUseError } from '../serving/start-errors';
import type { Logger } from '../telemetry/log';
import type { HeaderBag } from '../telemetry/tracing-headers';
import type { Tracing } from '../telemetry/tracing';
import { serviceDefinition } from './codec';
import { toResponse } from './entries';
import { file_google_rpc_status } from './gen/google/rpc/status_pb';
import { file_greeting_v3_greeting, GreetingService, type GreetingRequest, type GreetingResponse } from './gen/greeting/v3/greeting_pb';
import { file_grpc_health_v1_health, Health } from './gen/grpc/health/v1/health_pb';
import { file_grpc_reflection_v1_reflection, ServerReflection } from './gen/grpc/reflection/v1/reflection_pb';
import { HealthService } from './health';
import { GREETING_METHOD, GREETING_SERVICE } from './names';
import type { GrpcMetrics } from './metrics';
import { REFLECTION_V1, REFLECTION_V1ALPHA, ReflectionIndex } from './reflection';
import { CODE_OF, DETAILS_KEY, OUTCOME_KEY, partialDetails, TIMING_KEY } from './wire';

export { GREETING_METHOD, GREETING_SERVICE };

/** The tracing headers of a call, as metadata: what serveRequest reads, checks and completes. */
class MetadataBag implements HeaderBag {
  constructor(private readonly metadata: Metadata) {}
  get(name: string): string | undefined {
    const value = this.metadata.get(name)[0];
    return typeof value === 'string' ? value : undefined;
  }
  set(name: string, value: string): void {
    this.metadata.set(name, value);
  }
  delete(name: string): void {
    this.metadata.remove(name);
  }
}

export interface GrpcServeOptions {
  port: number;
  /** 0.0.0.0 in a pod; the local platform binds 127.0.0.1. */
  hostname?: string;
  /** The role's answer; `withinMs`: how long the caller still waits (its deadline), when it set one. */
  greet(forward: Record<string, string>, withinMs?: number): Promise<RoleAnswer>;
  tracing?: Tracing;
  /** Health answers NOT_SERVING while the role is not ready (starting, draining, a dependency down). */
  lifecycle: Lifecycle;
  metrics: GrpcMetrics;
  log: Logger;
}

export interface GrpcListening {
  port: number;
  /**
   * The graceful stop: Health says NOT_SERVING and ends its Watches, the port stops accepting connections, every connection
   * gets GOAWAY (a client opens no new call on it), calls in flight finish; then it resolves. Calls still open after
   * `graceMs` are cancelled and it resolves then.
   */
  stop(graceMs: number): Promise<void>;
}

const SPAN_ATTRIBUTES = { 'rpc.system': 'grpc', 'rpc.service': GREETING_SERVICE, 'rpc.method': GreetingService.method.greeting.name };

export async function serveGrpc(options: GrpcServeOptions): Promise<GrpcListening> {
  const { metrics, tracing, log } = options;
  // Channelz stays on (grpc-js's default): with 'grpc.enable_channelz': 0, grpc-js 1.14.7 never records its sessions where
  // forceShutdown() looks, and a forced stop leaves calls in flight running.
  const server = new Server({ interceptors: [metrics.serverInterceptor] });

  server.addService(serviceDefinition(GreetingService), {
    greeting: (call: ServerUnaryCall<GreetingRequest, GreetingResponse>, callback: sendUnaryData<GreetingResponse>) => {
      const deadline = call.getDeadline();
      const at = deadline instanceof Date ? deadline.getTime() : deadline;
      const withinMs = Number.isFinite(at) ? Math.max(0, at - Date.now()) : undefined;
      serveRequest(
        tracing,
        { headers: new MetadataBag(call.metadata), spanName: GREETING_METHOD.slice(1), attributes: SPAN_ATTRIBUTES, traced: true },
        (scope) => {
          scope.route = GREETING_METHOD;
          return options.greet(scope.forward, withinMs);
        },
        (answer) => ({
          attributes: { 'rpc.grpc.status_code': CODE_OF[answer.outcome] },
          failure: answer.outcome === 'whole' ? undefined : { reason: reasonOf(answer), type: answer.outcome },
        }),
      )
        .then(({ result, scope }) => send(result, scope, callback))
        // Whatever throws, in the role or while the answer is put into metadata, the call ends: an unanswered call would
        // hold its caller until its deadline (for ever without one) and keep tryShutdown waiting.
        .catch((err: unknown) => {
          log.error('gRPC call failed', { error: err as Error });
          callback({ code: CODE_OF.failed, details: 'internal error' });
        });
    },
  });

  const health = new HealthService([GREETING_SERVICE], () => options.lifecycle.readiness().ready);
  server.addService(serviceDefinition(Health), health.implementation());
  const reflection = new ReflectionIndex(
    [GREETING_SERVICE, Health.typeName, REFLECTION_V1],
    [file_greeting_v3_greeting, file_google_rpc_status, file_grpc_health_v1_health, file_grpc_reflection_v1_reflection],
  );
  server.addService(serviceDefinition(ServerReflection), reflection.implementation());
  server.addService(serviceDefinition(ServerReflection, REFLECTION_V1ALPHA), reflection.implementation());

  const hostname = options.hostname ?? '0.0.0.0';
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${hostname}:${options.port}`, ServerCredentials.createInsecure(), (err, bound) =>
      err ? reject(isAddressInUse(err) ? new PortInUseError(options.port, hostname) : err) : resolve(bound),
    ),
  );

  let stopped: Promise<void> | undefined;
  return {
    port,
    stop(graceMs) {
      stopped ??= new Promise<void>((resolve) => {
        health.shutdown();
        const force = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      });
      return stopped;
    },
  };
}

function reasonOf(answer: RoleAnswer): string {
  if ('error' in answer) return answer.error.error;
  const failed = answer.entries.filter((e) => 'error' in e).map((e) => e.service);
  return `partial: ${failed.join(', ')} failed`;
}

function send(answer: RoleAnswer, scope: RequestScope, callback: sendUnaryData<GreetingResponse>): void {
  const trailer = new Metadata();
  trailer.set(TIMING_KEY, formatTimings(answer.timings));
  trailer.set(OUTCOME_KEY, answer.outcome);
  trailer.set('x-request-id', scope.requestId);
  if (scope.ignored.length > 0) trailer.set('x-ignored-headers', scope.ignored.map((i) => `${i.name} (${i.reason})`).join(', '));
  if (answer.outcome === 'whole') return callback(null, toResponse(answer.entries), trailer);
  const reason = reasonOf(answer);
  if (answer.outcome === 'partial') trailer.set(DETAILS_KEY, partialDetails(toResponse(answer.entries), reason));
  callback({ code: CODE_OF[answer.outcome], details: reason, metadata: trailer });
}
