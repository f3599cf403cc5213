/**
 * grpc.health.v1.Health: Check, Watch and List. Each service's status is SERVING unless set otherwise, AND'ed with the
 * role's readiness when one is given (read at every Check, polled once a second while someone Watches), so a role that is
 * starting or draining, or whose store is down, says NOT_SERVING, as its HTTP readiness does. `shutdown()` says NOT_SERVING
 * for good and ends every Watch: a Watch never ends by itself, and a graceful stop waits for every open call.
 */
import { create } from '@bufbuild/protobuf';
import { status as Status, type sendUnaryData, type ServerUnaryCall, type ServerWritableStream, type UntypedServiceImplementation } from '@grpc/grpc-js';
import {
  HealthCheckResponse_ServingStatus as Serving,
  HealthCheckResponseSchema,
  HealthListResponseSchema,
  type HealthCheckRequest,
  type HealthCheckResponse,
  type HealthListRequest,
  type HealthListResponse,
} from './gen/grpc/health/v1/health_pb';

export { HealthCheckResponse_ServingStatus as ServingStatus } from './gen/grpc/health/v1/health_pb';

type Watch = ServerWritableStream<HealthCheckRequest, HealthCheckResponse>;

const POLL_MS = 1000;

export class HealthService {
  private readonly statuses = new Map<string, Serving>();
  private readonly watches = new Map<Watch, { service: string; last: Serving }>();
  private poll?: ReturnType<typeof setInterval>;
  private stopped = false;

  /** `services`: the fully qualified names to answer for; "" (the server as a whole) is always known. */
  constructor(services: string[], private readonly isReady?: () => boolean) {
    for (const service of ['', ...services]) this.statuses.set(service, Serving.SERVING);
  }

  /** Sets one service's status ("" for the whole server); a later readiness or shutdown still overrides SERVING. */
  set(service: string, status: Serving.SERVING | Serving.NOT_SERVING): void {
    this.statuses.set(service, status);
    this.notify();
  }

  /** NOT_SERVING for every service from now on, and every Watch ended (OK, after a last NOT_SERVING message). */
  shutdown(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.notify();
    for (const call of this.watches.keys()) call.end();
    this.watches.clear();
    this.stopPolling();
  }

  status(service: string): Serving {
    const known = this.statuses.get(service);
    if (known === undefined) return Serving.SERVICE_UNKNOWN;
    if (this.stopped || known === Serving.NOT_SERVING || (this.isReady && !this.isReady())) return Serving.NOT_SERVING;
    return known;
  }

  implementation(): UntypedServiceImplementation {
    return {
      check: (call: ServerUnaryCall<HealthCheckRequest, HealthCheckResponse>, callback: sendUnaryData<HealthCheckResponse>) => {
        const status = this.status(call.request.service);
        if (status === Serving.SERVICE_UNKNOWN) callback({ code: Status.NOT_FOUND, details: `unknown service '${call.request.service}'` });
        else callback(null, create(HealthCheckResponseSchema, { status }));
      },
      watch: (call: Watch) => {
        const status = this.status(call.request.service);
        call.write(create(HealthCheckResponseSchema, { status }));
        if (this.stopped) return void call.end();
        this.watches.set(call, { service: call.request.service, last: status });
        call.on('cancelled', () => this.unwatch(call));
        call.on('error', () => this.unwatch(call));
        if (this.isReady && !this.poll) {
          this.poll = setInterval(() => this.notify(), POLL_MS);
          this.poll.unref?.();
        }
      },
      list: (_call: ServerUnaryCall<HealthListRequest, HealthListResponse>, callback: sendUnaryData<HealthListResponse>) => {
        const statuses: Record<string, HealthCheckResponse> = {};
        for (const service of this.statuses.keys()) statuses[service] = create(HealthCheckResponseSchema, { status: this.status(service) });
        callback(null, create(HealthListResponseSchema, { statuses }));
      },
    };
  }

  private notify(): void {
    for (const [call, watch] of this.watches) {
      const status = this.status(watch.service);
      if (status === watch.last) continue;
      watch.last = status;
      call.write(create(HealthCheckResponseSchema, { status }));
    }
  }

  private unwatch(call: Watch): void {
    this.watches.delete(call);
    if (this.watches.size === 0) this.stopPolling();
  }

  private stopPolling(): void {
    if (this.poll) clearInterval(this.poll);
    this.poll = undefined;
  }
}
