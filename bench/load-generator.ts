/**
 * The load generator, run as its own process (`bun bench/load-generator.ts '<json spec>'`) so that the bench driver's event
 * loop (polling /proc, the collector, printing) never delays a request or a latency sample, and so that its own CPU is
 * measured apart. A closed loop: `connections` workers, each sending its next request as soon as the previous answer is in,
 * over Bun's keep-alive fetch.
 *
 * Why not autocannon (which this bench used before): it drops the requests in flight when the time is up, so the roles store
 * greetings nobody received and stored = answered could never hold; here the workers stop sending at the deadline and wait
 * for the answers still due. Bun's fetch also parses natively: on this machine it drove a trivial JSON route at 77k req/s
 * for 12 µs of CPU per request where autocannon (http-parser-js) reached 56k, so the generator is further from being the limit.
 *
 * Every answer's body is read and, when the spec carries the expected greetings, checked (correctness.ts).
 */
import { AnswerChecker, type CorrectnessCounts, type ExpectedGreeting } from './correctness';
import { summarize, type LatencySummary } from './latency';

export interface LoadSpec {
  url: string;
  connections: number;
  durationS: number;
  /** Seconds before a request counts as timed out (an error). */
  timeoutS: number;
  /** The greetings every answer must be, in order; absent: bodies are read but not checked (the ceiling's health route). */
  expected?: ExpectedGreeting[];
  clockSkewMs?: number;
}

export interface LoadResult {
  url: string;
  connections: number;
  /** From the first request to the last answer (the deadline plus the answers that were still due). */
  durationS: number;
  /** Answers received, whatever their status. */
  requests: number;
  requestsPerSecond: number;
  /** Answers with a status outside 2xx. */
  non2xx: number;
  statusCodes: Record<string, number>;
  /** Requests that got no answer: connection errors and timeouts. */
  errors: number;
  timeouts: number;
  /** Latency of every answer, whatever its status. */
  latency: LatencySummary;
  /** CPU seconds the load generator itself used (all its threads): it competes with the roles for the same cores. */
  cpuSeconds: number;
  /** The generator's CPU per answer, checking included. */
  cpuPerRequestUs: number;
  /** Of that, the time the correctness check took per answer (on the generator's one JavaScript thread). */
  checkUsPerAnswer?: number;
  correctness?: CorrectnessCounts;
}

/** After a failed request: a dead target must not turn the generator into a busy loop. */
const ERROR_BACKOFF_MS = 10;

async function run(spec: LoadSpec): Promise<LoadResult> {
  const checker = spec.expected ? new AnswerChecker(spec.expected, { clockSkewMs: spec.clockSkewMs ?? 5000 }) : undefined;
  let samples = new Float64Array(1 << 16);
  let count = 0;
  let errors = 0;
  let timeouts = 0;
  let non2xx = 0;
  const statusCodes: Record<string, number> = {};
  let checkMs = 0;
  const timeoutMs = spec.timeoutS * 1000;
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const deadline = started + spec.durationS * 1000;

  const worker = async () => {
    while (performance.now() < deadline) {
      const sentAt = Date.now();
      const t0 = performance.now();
      try {
        const response = await fetch(spec.url, { signal: AbortSignal.timeout(timeoutMs) });
        const body = await response.text();
        const latency = performance.now() - t0;
        if (count === samples.length) {
          const grown = new Float64Array(samples.length * 2);
          grown.set(samples);
          samples = grown;
        }
        samples[count++] = latency;
        const status = response.status;
        statusCodes[status] = (statusCodes[status] ?? 0) + 1;
        if (status < 200 || status > 299) non2xx++;
        if (checker) {
          const c0 = performance.now();
          checker.check(status, body, sentAt, Date.now());
          checkMs += performance.now() - c0;
        }
      } catch (err) {
        errors++;
        if ((err as Error).name === 'TimeoutError') timeouts++;
        await Bun.sleep(ERROR_BACKOFF_MS);
      }
    }
  };
  await Promise.all(Array.from({ length: spec.connections }, worker));

  const durationS = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  return {
    url: spec.url,
    connections: spec.connections,
    durationS: Math.round(durationS * 1000) / 1000,
    requests: count,
    requestsPerSecond: Math.round((count / durationS) * 10) / 10,
    non2xx,
    statusCodes,
    errors,
    timeouts,
    latency: summarize(samples.subarray(0, count)),
    cpuSeconds: Math.round(cpuSeconds * 1000) / 1000,
    cpuPerRequestUs: Math.round((cpuSeconds / Math.max(1, count)) * 1e6 * 10) / 10,
    checkUsPerAnswer: checker ? Math.round((checkMs / Math.max(1, count)) * 1000 * 10) / 10 : undefined,
    correctness: checker?.result(),
  };
}

if (import.meta.main) {
  const spec = JSON.parse(process.argv[2] ?? '') as LoadSpec;
  const result = await run(spec);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
