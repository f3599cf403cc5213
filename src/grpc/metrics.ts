/**
 * The conventional gRPC metrics, named and labelled as go-grpc-prometheus names them (what Grafana's gRPC dashboards and
 * Kiali's app metrics expect), in the role's own prom-client registry:
 *   grpc_server_started_total{grpc_type,grpc_service,grpc_method}
 *   grpc_server_handled_total{grpc_type,grpc_service,grpc_method,grpc_code}
 *   grpc_server_handling_seconds{grpc_type,grpc_service,grpc_method}            (histogram; no code, as go-grpc-prometheus)
 *   grpc_client_handled_total{grpc_type,grpc_service,grpc_method,grpc_code}
 *   grpc_client_handling_seconds{grpc_type,grpc_service,grpc_method}            (histogram)
 * plus `role`, as every series of the repo carries (app and version come as the registry's default labels).
 * The server side is a grpc-js server interceptor, so it sees the status grpc-js really sent, including DEADLINE_EXCEEDED
 * and CANCELLED that no handler answered; the client side is recorded by the transport, which knows the final code.
 * A partial answer ends UNAVAILABLE (grpc/wire.ts), so it counts as UNAVAILABLE here, as the REST 502 does in the HTTP metrics.
 */
import { ResponderBuilder, ServerInterceptingCall, ServerListenerBuilder, status as Status, type ServerInterceptor } from '@grpc/grpc-js';
import { Counter, Histogram, type Registry } from '../telemetry/prom';

const DEADLINE_SLACK_MS = 25;
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export type GrpcType = 'unary' | 'client_stream' | 'server_stream' | 'bidi_stream';

export const CODE_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(Status)
    .filter(([, value]) => typeof value === 'number')
    .map(([name, value]) => [value, name]),
);

/** `/greeting.v3.GreetingService/Greeting` -> service and method labels. */
export function splitPath(path: string): { service: string; method: string } {
  const slash = path.lastIndexOf('/');
  return { service: path.slice(1, slash), method: path.slice(slash + 1) };
}

export function grpcType(requestStream: boolean, responseStream: boolean): GrpcType {
  if (requestStream) return responseStream ? 'bidi_stream' : 'client_stream';
  return responseStream ? 'server_stream' : 'unary';
}

export interface GrpcMetrics {
  serverInterceptor: ServerInterceptor;
  clientHandled(path: string, code: string, seconds: number): void;
}

export function createGrpcMetrics(registry: Registry, role: string): GrpcMetrics {
  const registers = [registry];
  const labels = ['role', 'grpc_type', 'grpc_service', 'grpc_method'] as const;
  const started = new Counter({ name: 'grpc_server_started_total', help: 'RPCs started on the server.', labelNames: labels, registers });
  const handled = new Counter({
    name: 'grpc_server_handled_total',
    help: 'RPCs completed on the server, by gRPC status code.',
    labelNames: [...labels, 'grpc_code'] as const,
    registers,
  });
  const handling = new Histogram({
    name: 'grpc_server_handling_seconds',
    help: 'Time the server took to complete RPCs.',
    labelNames: labels,
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const clientHandledTotal = new Counter({
    name: 'grpc_client_handled_total',
    help: 'RPCs completed by the client, by gRPC status code.',
    labelNames: [...labels, 'grpc_code'] as const,
    registers,
  });
  const clientHandling = new Histogram({
    name: 'grpc_client_handling_seconds',
    help: 'Time RPCs took until the client had their status.',
    labelNames: labels,
    buckets: LATENCY_BUCKETS,
    registers,
  });

  const serverInterceptor: ServerInterceptor = (descriptor, call) => {
    const { service, method } = splitPath(descriptor.path);
    const base = { role, grpc_type: grpcType(descriptor.requestStream, descriptor.responseStream), grpc_service: service, grpc_method: method };
    const t0 = performance.now();
    let done = false;
    const finish = (code: string) => {
      if (done) return;
      done = true;
      handled.inc({ ...base, grpc_code: code });
      handling.observe(base, (performance.now() - t0) / 1000);
    };
    started.inc(base);
    return new ServerInterceptingCall(
      call,
      new ResponderBuilder()
        .withStart((next) =>
          next(
            new ServerListenerBuilder()
              .withOnCancel(() => {
                // A caller whose deadline passed resets the stream a moment before this server's copy of the deadline
                // (it started counting on receipt): a cancel that close to the deadline is the deadline.
                const deadline = call.getDeadline();
                const left = (deadline instanceof Date ? deadline.getTime() : deadline) - Date.now();
                finish(left <= DEADLINE_SLACK_MS ? 'DEADLINE_EXCEEDED' : 'CANCELLED');
              })
              .build(),
          ),
        )
        .withSendStatus((status, next) => {
          finish(CODE_NAMES[status.code] ?? String(status.code));
          next(status);
        })
        .build(),
    );
  };

  return {
    serverInterceptor,
    clientHandled(path, code, seconds) {
      const { service, method } = splitPath(path);
      const base = { role, grpc_type: 'unary' as const, grpc_service: service, grpc_method: method };
      clientHandledTotal.inc({ ...base, grpc_code: code });
      clientHandling.observe(base, seconds);
    },
  };
}
