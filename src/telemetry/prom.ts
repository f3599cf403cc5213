/**
 * prom-client, loaded module by module instead of through its index. The index also loads what no role uses: the Pushgateway
 * (node:http, node:https, node:zlib, node:url), the cluster aggregator (node:cluster) and the Summary's t-digest. Compiled as
 * build:binary compiles, in front of a bare server, the index cost 7.4 ms and 12.1 MB at start, this file 3.4 ms and 8.3 MB
 * (`npm run bench` measures both: `prom-client` and `prom-client, as src/telemetry/prom.ts loads it`).
 */
import Counter from 'prom-client/lib/counter.js';
import Gauge from 'prom-client/lib/gauge.js';
import Histogram from 'prom-client/lib/histogram.js';
import eventLoopLag from 'prom-client/lib/metrics/eventLoopLag.js';
import heapSizeAndUsed from 'prom-client/lib/metrics/heapSizeAndUsed.js';
import osMemoryHeap from 'prom-client/lib/metrics/osMemoryHeap.js';
import processCpuTotal from 'prom-client/lib/metrics/processCpuTotal.js';
import processMaxFileDescriptors from 'prom-client/lib/metrics/processMaxFileDescriptors.js';
import processOpenFileDescriptors from 'prom-client/lib/metrics/processOpenFileDescriptors.js';
import processStartTime from 'prom-client/lib/metrics/processStartTime.js';
import version from 'prom-client/lib/metrics/version.js';
import Registry from 'prom-client/lib/registry.js';
import type { collectDefaultMetrics } from 'prom-client';

export { Counter, Gauge, Histogram, Registry };

/**
 * Under Bun, the default sets that tell something true: CPU, start time, resident memory, file descriptors, event-loop lag,
 * heap size, runtime version. Left out are the ones Bun cannot answer: the GC histogram (Bun reports no GC to perf_hooks, so it
 * stays empty), the active handles, requests and resources (Bun reports none, with timers and a server running), and the
 * per-heap-space gauges (Bun answers v8.getHeapSpaceStatistics() with a census of its whole heap, about 2 ms at start and
 * again at every scrape, for spaces its engine does not have). Under Node, all of prom-client's defaults.
 *
 * Not registered here but by the function returned, or at the registry's first listing (every scrape and JSON read lists it
 * first), whichever comes first, once: registered at creation they cost a compiled role 0.4-2.3 ms of its exec to first 200
 * (role B, 31 starts each in alternation, four runs; a build without them started no faster than with them deferred), the
 * event-loop monitor the largest part, so a role sets them up right after its first answer (metrics.ts). Every set reads its values at the scrape (CPU and start time from the process
 * itself), so none of them tells less for starting later; the event-loop lag's histogram starts with the registration.
 */
export function defaultMetricsOnDemand(register: Registry): () => void {
  let registered = false;
  const registerAll = () => {
    if (registered) return;
    registered = true;
    registerDefaultMetrics(register);
  };
  onFirstListing(register, registerAll);
  return registerAll;
}

function registerDefaultMetrics(register: Registry): void {
  if (!(globalThis as { Bun?: unknown }).Bun) {
    // Required only here: imported, the module would load all thirteen sets (node:v8 among them) under Bun too. The Node
    // bundle keeps prom-client external, so a require from this file finds it in node_modules.
    const require = process.getBuiltinModule('node:module').createRequire(import.meta.url);
    (require('prom-client/lib/defaultMetrics.js') as typeof collectDefaultMetrics)({ register });
    return;
  }
  const options = { eventLoopMonitoringPrecision: 10 };
  // processMaxFileDescriptors reads /proc/self/limits as it registers, with node:fs: registered here, it is read at the first
  // listing or after the first answer, never before it (the binary's build defers the other sets' requires of node:fs to the
  // scrapes that read /proc).
  for (const set of [processCpuTotal, processStartTime, osMemoryHeap, processOpenFileDescriptors, processMaxFileDescriptors, eventLoopLag, heapSizeAndUsed, version]) set(register, options);
}

function onFirstListing(register: Registry, first: () => void): void {
  const own = register as { getMetricsAsArray?: Registry['getMetricsAsArray'] };
  own.getMetricsAsArray = function (this: Registry) {
    delete own.getMetricsAsArray;
    first();
    return this.getMetricsAsArray();
  };
}
