/**
 * The load generator, run as its own process (`bun bench/load-generator.ts '<json spec>'`) so that the bench driver's event
 * loop (polling /proc, the collector, printing) never delays a request or a latency sample. autocannon drives the load; every
 * response's latency is kept at sub-millisecond precision and reduced to a summary, which is printed as one JSON line.
 */
import autocannon from 'autocannon';
import { summarize, type LatencySummary } from './latency';

export interface LoadSpec {
  url: string;
  connections: number;
  durationS: number;
  /** Seconds before autocannon counts a request as timed out (an error). */
  timeoutS: number;
}

export interface LoadResult {
  url: string;
  connections: number;
  durationS: number;
  requests: number;
  requestsPerSecond: number;
  /** Responses with a status outside 2xx. */
  non2xx: number;
  statusCodes: Record<string, number>;
  /** Connection errors and timeouts: requests that got no response at all. */
  errors: number;
  timeouts: number;
  /** Latency of every response, whatever its status. */
  latency: LatencySummary;
  /** CPU seconds the load generator itself used: it competes with the roles for the same cores. */
  cpuSeconds: number;
}

function run(spec: LoadSpec): Promise<LoadResult> {
  let samples = new Float64Array(1 << 16);
  let count = 0;
  return new Promise((resolve, reject) => {
    const cpuBefore = process.cpuUsage();
    const instance = autocannon(
      { url: spec.url, connections: spec.connections, duration: spec.durationS, timeout: spec.timeoutS },
      (err, result) => {
        if (err) return reject(err);
        const cpu = process.cpuUsage(cpuBefore);
        const statusCodes: Record<string, number> = {};
        for (const [code, stat] of Object.entries(result.statusCodeStats ?? {})) statusCodes[code] = stat.count ?? 0;
        resolve({
          url: spec.url,
          connections: spec.connections,
          durationS: result.duration,
          requests: count,
          requestsPerSecond: Math.round((count / result.duration) * 10) / 10,
          non2xx: result.non2xx,
          statusCodes,
          errors: result.errors,
          timeouts: result.timeouts,
          latency: summarize(samples.subarray(0, count)),
          cpuSeconds: (cpu.user + cpu.system) / 1e6,
        });
      },
    );
    instance.on('response', (_client, _status, _bytes, responseTime) => {
      if (count === samples.length) {
        const grown = new Float64Array(samples.length * 2);
        grown.set(samples);
        samples = grown;
      }
      samples[count++] = responseTime;
    });
  });
}

if (import.meta.main) {
  const spec = JSON.parse(process.argv[2] ?? '') as LoadSpec;
  const result = await run(spec);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
