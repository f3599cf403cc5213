/**
 * The gRPC transport of a role's upstream calls: GreetingService/Greeting on each upstream, one grpc-js channel per upstream
 * (made at its first call, kept for every later one), the tracing headers as metadata, a gRPC deadline per call. Answers
 * what every transport answers (transport/upstream.ts), read as wire.ts says: OK is the whole subtree; UNAVAILABLE with a
 * GreetingResponse in its details is a partial one; any other end is a failure labelled with the gRPC code's name
 * (UNAVAILABLE, DEADLINE_EXCEEDED, ...). The per-hop timings come back in the `server-timing` trailer.
 */
import { create } from '@bufbuild/protobuf';
import { Client, credentials, type Metadata, type ServiceError, type StatusObject } from '@grpc/grpc-js';
import { workloadName } from '../config/facts';
import type { Upstream } from '../config/settings';
import { parseTimings } from '../greeting';
import { timedOut } from '../transport/failures';
import type { CallDescription, UpstreamAnswer, UpstreamCall, UpstreamTransport } from '../transport/upstream';
import { methodDefinition } from './codec';
import { fromResponse } from './entries';
import { GreetingRequestSchema, GreetingService, type GreetingResponse } from './gen/greeting/v3/greeting_pb';
import { recordToMetadata } from './metadata';
import { CODE_NAMES, type GrpcMetrics } from './metrics';
import { DETAILS_KEY, responseInDetails, TIMING_KEY } from './wire';

const GREETING = methodDefinition(GreetingService.method.greeting);
const EMPTY_REQUEST = create(GreetingRequestSchema);

/** `grpc://service-b:50051`, `http://service-b:50051` or `service-b:50051` -> the grpc-js target `service-b:50051`. */
export function targetOf(url: string): string {
  const match = /^(?:[a-z][a-z0-9+.-]*:\/\/)?([^/]+)\/?$/i.exec(url);
  if (!match) throw new Error(`not a gRPC upstream address: ${url}`);
  return match[1]!;
}

export class GrpcClient implements UpstreamTransport {
  private readonly channels = new Map<string, Client>();

  /** `maxAnswerBytes`: the largest message accepted (config defaults.upstreamMaxAnswerBytes), as for HTTP. */
  constructor(
    private readonly metrics: GrpcMetrics,
    private readonly maxAnswerBytes: number,
  ) {}

  describe(upstream: Upstream): CallDescription {
    return {
      spanName: GREETING.path.slice(1),
      attributes: {
        'rpc.system': 'grpc',
        'rpc.service': GreetingService.typeName,
        'rpc.method': GreetingService.method.greeting.name,
        'server.address': targetOf(upstream.url),
        'peer.service': workloadName(upstream.id),
      },
    };
  }

  answerAttributes(_upstream: Upstream, answer: UpstreamAnswer) {
    const name = answer.outcome === 'failed' ? answer.failure : answer.code;
    const code = Object.entries(CODE_NAMES).find(([, n]) => n === name)?.[0];
    return code === undefined ? {} : { 'rpc.grpc.status_code': Number(code) };
  }

  private channel(url: string): Client {
    let client = this.channels.get(url);
    if (!client) {
      client = new Client(targetOf(url), credentials.createInsecure(), {
        'grpc.max_receive_message_length': this.maxAnswerBytes,
        // An upstream that restarts is called again within a fraction of a second (grpc-js waits 1 s, doubling to 2 min, by
        // default, failing every call meanwhile); a dead one still fails at once, as over HTTP.
        'grpc.initial_reconnect_backoff_ms': 100,
        'grpc.max_reconnect_backoff_ms': 2_000,
      });
      this.channels.set(url, client);
    }
    return client;
  }

  call({ upstream, headers, timeoutMs }: UpstreamCall): Promise<UpstreamAnswer> {
    const started = performance.now();
    return new Promise((resolve) => {
      let response: GreetingResponse | undefined;
      let error: ServiceError | null = null;
      const call = this.channel(upstream.url).makeUnaryRequest(
        GREETING.path,
        GREETING.requestSerialize,
        GREETING.responseDeserialize as (bytes: Buffer) => GreetingResponse,
        EMPTY_REQUEST,
        recordToMetadata(headers),
        { deadline: Date.now() + timeoutMs },
        (err, value) => {
          error = err;
          response = value;
        },
      );
      // 'status' comes last, with the trailers, after the callback has had the message or the error.
      call.on('status', (status: StatusObject) => {
        const durationMs = performance.now() - started;
        const answer = answerOf(CODE_NAMES[status.code] ?? String(status.code), status, error ? undefined : response, timeoutMs, durationMs);
        this.metrics.clientHandled(GREETING.path, answer.outcome === 'failed' ? answer.failure : answer.code, durationMs / 1000);
        resolve(answer);
      });
    });
  }

  /** Closes every channel (at shutdown): calls in flight are cancelled. */
  close(): void {
    for (const client of this.channels.values()) client.close();
    this.channels.clear();
  }
}

function answerOf(code: string, status: StatusObject, response: GreetingResponse | undefined, timeoutMs: number, durationMs: number): UpstreamAnswer {
  // A server that enforces the deadline too (grpc-go does) may reset the stream (RST_STREAM CANCEL) a moment before the
  // client's own timer fires, and grpc-js reports that as CANCELLED. Under Bun, whose timers fire a few ms late, that
  // happens to about one call in five against grpc-go; this transport never cancels a call itself (close() aside).
  if (code === 'CANCELLED' && durationMs >= timeoutMs) code = 'DEADLINE_EXCEEDED';
  if (code === 'DEADLINE_EXCEEDED') return { ...timedOut(timeoutMs, durationMs), failure: code };
  if (code === 'RESOURCE_EXHAUSTED' && /larger than max/i.test(status.details))
    return { outcome: 'failed', failure: 'too_large', reason: `answered with a message larger than the limit (UPSTREAM_MAX_ANSWER_BYTES): ${status.details}`, durationMs };
  const partial = code === 'UNAVAILABLE' ? responseInDetails(first(status.metadata, DETAILS_KEY) as Buffer | undefined) : undefined;
  const body = code === 'OK' ? response : partial;
  // The code alone does not tell whether the upstream answered it or the channel made it up (UNAVAILABLE is both a role
  // whose sink refused and a refused connection), so the reason is the code and grpc-js's details, as they are.
  if (!body) return { outcome: 'failed', failure: code, reason: status.details ? `${code}: ${status.details}` : code, durationMs };
  const decoded = fromResponse(body);
  if ('problem' in decoded) return { outcome: 'failed', failure: code, reason: `${code} with an unusable answer: ${decoded.problem}`, durationMs };
  const timings = parseTimings(first(status.metadata, TIMING_KEY) as string | undefined);
  return { outcome: partial || body.upstreamError.length > 0 ? 'partial' : 'whole', entries: decoded.entries, timings, code, durationMs };
}

function first(metadata: Metadata, key: string): string | Buffer | undefined {
  return metadata.get(key)[0];
}
