/**
 * One scenario (artifact x backends x tracing): start the eight roles as processes, check the chain answers, measure idle
 * memory, warm up, load the chain while counting each role's CPU, check the data plane drained, load one role's trivial route
 * for the ceiling, then stop everything and collect what the span collector received.
 */
import { edgeRole } from '../src/config/facts';
import type { PlatformConfig } from '../src/config/schema';
import { ProcessPlatform } from '../src/platform/processes';
import { commandFor } from './artifacts';
import { startDataPlane } from './backends';
import { awaitDrained, countDocuments, type DataPlaneCheck } from './data-plane';
import { generateLoad } from './load';
import type { LoadResult } from './load-generator';
import type { BenchOptions, Scenario } from './options';
import { cpuSeconds, memory, pidListeningOn, processName, threadCpuSeconds } from './proc-stats';
import { startCollector, type Collector, type SpanCount } from './zipkin-collector';

export interface RoleStats {
  pid: number;
  /** RSS once ready, before any load. */
  idleRssMb: number;
  /** VmHWM after the chain load: the most the role ever held. */
  peakRssMb: number;
  /** CPU seconds the role used during the measured chain load, and that as a share of one core. */
  chainCpuSeconds: number;
  chainCpuPercent: number;
  /** The chain-load CPU seconds by thread name (main = the JavaScript thread), largest first. */
  chainCpuByThread: Record<string, number>;
}

export interface ScenarioResult {
  scenario: Scenario;
  label: string;
  /** What served the data plane. */
  backends: string;
  chain: LoadResult;
  ceiling: LoadResult & { role: string };
  /** chain req/s x hops / ceiling req/s: the share of single-hop capacity the chain achieves. */
  ratio: number;
  hops: number;
  roles: Record<string, RoleStats>;
  /** Seconds of warm-up load before the measured run (the option, plus what the JIT needed). */
  warmupS: number;
  /** CPU microseconds all roles together spent per chain request. */
  rolesCpuPerRequestUs: number;
  loadGeneratorCpuPercent: number;
  dataPlane?: DataPlaneCheck;
  /** CPU the data-plane servers on this machine used during the chain load (servers elsewhere are not visible). */
  dataPlaneServers?: { name: string; url: string; pid: number; chainCpuSeconds: number; chainCpuPercent: number }[];
  tracing?: SpanCount & { greetingRequests: number; collectorCpuSeconds: number };
}

/** The data-plane servers that listen on this machine, by the ports of their URLs (credentials never leave the URL parser). */
function localServers(env: Record<string, string>): { name: string; url: string; pid: number }[] {
  const found: { name: string; url: string; pid: number }[] = [];
  for (const [variable, defaultPort] of [['MONGO_CONN', 27017], ['RABBITMQ_CONN', 5672]] as const) {
    const value = env[variable];
    if (!value) continue;
    const url = new URL(value);
    if (!['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)) continue;
    const pid = pidListeningOn(Number(url.port || defaultPort));
    if (pid) found.push({ name: processName(pid), url: `${url.protocol}//${url.host}`, pid });
  }
  return found;
}

const EXTRA_WARMUP_STEP_S = 2;
/** Below this share of the roles' CPU the compiler is done with the hot paths. */
const JIT_SETTLED_SHARE = 0.03;

/** The share of all CPU used between two per-thread snapshots that threads of this name used. */
function shareOf(thread: string, before: Record<string, number>[], after: Record<string, number>[]): number {
  let named = 0;
  let all = 0;
  after.forEach((threads, i) => {
    for (const [name, seconds] of Object.entries(threads)) {
      const used = seconds - (before[i]?.[name] ?? 0);
      all += used;
      if (name === thread) named += used;
    }
  });
  return all > 0 ? named / all : 0;
}

function threadDelta(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const delta = Object.entries(after)
    .map(([name, seconds]) => [name, round(seconds - (before[name] ?? 0), 2)] as const)
    .filter(([, seconds]) => seconds > 0)
    .sort(([, a], [, b]) => b - a);
  return Object.fromEntries(delta);
}

export function labelOf(s: Scenario): string {
  return `${s.artifact}/${s.backends}/tracing-${s.tracing}/${s.transport}`;
}

const round = (v: number, digits = 1) => Math.round(v * 10 ** digits) / 10 ** digits;

/** The role the load enters by; the ceiling run loads its trivial route, so both runs cross the same process boundary. */
function edgeOf(config: PlatformConfig): string {
  return edgeRole(config);
}

async function firstAnswer(url: string, expectedEntries: number): Promise<void> {
  const response = await fetch(url);
  const body = (await response.json()) as unknown[];
  if (response.status !== 200 || !Array.isArray(body) || body.length !== expectedEntries) {
    throw new Error(`the chain is not healthy before the load: ${url} answered ${response.status} ${JSON.stringify(body).slice(0, 300)}`);
  }
}

export async function runScenario(
  config: PlatformConfig,
  options: BenchOptions,
  scenario: Scenario,
  progress: (msg: string) => void,
): Promise<ScenarioResult> {
  const command = commandFor(scenario.artifact);
  const dataPlane = await startDataPlane(scenario.backends);
  let collector: Collector | undefined;
  let platform: ProcessPlatform | undefined;
  const unexpected: string[] = [];
  try {
    if (scenario.tracing === 'on') collector = await startCollector();
    const publisher = Object.keys(config.services).find((id) => config.services[id]!.publish);
    const consumer = Object.keys(config.services).find((id) => config.services[id]!.consume);
    const sink = consumer ? config.services[consumer]!.consume!.store : undefined;
    const mongoUrl = dataPlane.env.MONGO_CONN;
    const documentsBefore = dataPlane.real && sink && mongoUrl ? await countDocuments(mongoUrl, sink.database, sink.collection) : 0;
    platform = new ProcessPlatform(config, {
      command,
      env: {
        ...dataPlane.env,
        ...(collector ? { ZIPKIN_URL: collector.spansUrl, TRACE_SAMPLE_RATIO: '1' } : {}),
        DRAIN_DELAY_MS: '0',
        // On embedded backends each role is its own process, so D's in-memory queue has no consumer and fills up: raised far
        // above what a run publishes, so D keeps accepting (and the run measures the chain, not a full queue's 503s).
        ...(dataPlane.real ? {} : { MEMORY_QUEUE_LIMIT: '5000000' }),
      },
      onUnexpectedExit: (id, how) => unexpected.push(`${id} exited (${how})`),
      transport: scenario.transport,
    });
    progress(`starting eight roles (${command.join(' ')})`);
    await platform.start(60_000);
    const edge = edgeOf(config);
    const greetingUrl = `${platform.url(edge)}/api/greeting`;
    const hops = Object.keys(config.services).filter((id) => !config.services[id]!.consume).length;
    await firstAnswer(greetingUrl, hops);

    // Let start-up garbage settle before reading what an idle role holds.
    await Bun.sleep(1000);
    const pids = new Map([...platform.roles].map(([id, role]) => [id, role.child.pid!]));
    const idle = new Map([...pids].map(([id, pid]) => [id, memory(pid)]));

    const spec = { connections: options.concurrency, timeoutS: 10 };
    let greetingRequests = 0;
    let warmupS = 0;
    if (options.warmupS > 0) {
      progress(`warming up ${options.warmupS} s`);
      greetingRequests += (await generateLoad({ ...spec, url: greetingUrl, durationS: options.warmupS })).requests;
      warmupS = options.warmupS;
      // Bun's JIT compiles hot code for a number of calls, not seconds: a slow configuration (tracing on, real servers) needs
      // more time. Keep warming while the compiler threads still take a visible share of the roles' CPU.
      while (warmupS + EXTRA_WARMUP_STEP_S <= options.warmupS + options.maxExtraWarmupS) {
        const before = [...pids.values()].map(threadCpuSeconds);
        greetingRequests += (await generateLoad({ ...spec, url: greetingUrl, durationS: EXTRA_WARMUP_STEP_S })).requests;
        warmupS += EXTRA_WARMUP_STEP_S;
        const after = [...pids.values()].map(threadCpuSeconds);
        const jitShare = shareOf('JITWorker', before, after);
        if (jitShare < JIT_SETTLED_SHARE) break;
        progress(`the JIT still takes ${Math.round(jitShare * 100)}% of the roles' CPU: warming up ${EXTRA_WARMUP_STEP_S} s more`);
      }
    }
    progress(`chain: GET /api/greeting on ${edge}, ${options.concurrency} connections, ${options.durationS} s`);
    const servers = localServers(dataPlane.env);
    const serversBefore = servers.map((s) => cpuSeconds(s.pid) ?? 0);
    const cpuBefore = new Map([...pids].map(([id, pid]) => [id, cpuSeconds(pid) ?? 0]));
    const threadsBefore = new Map([...pids].map(([id, pid]) => [id, threadCpuSeconds(pid)]));
    const chain = await generateLoad({ ...spec, url: greetingUrl, durationS: options.durationS });
    const cpuAfter = new Map([...pids].map(([id, pid]) => [id, cpuSeconds(pid) ?? 0]));
    const threadsAfter = new Map([...pids].map(([id, pid]) => [id, threadCpuSeconds(pid)]));
    const dataPlaneServers = servers.map((s, i) => {
      const used = (cpuSeconds(s.pid) ?? 0) - serversBefore[i]!;
      return { ...s, chainCpuSeconds: round(used, 2), chainCpuPercent: round((used / chain.durationS) * 100) };
    });
    greetingRequests += chain.requests;

    const roles: Record<string, RoleStats> = {};
    let rolesCpu = 0;
    for (const [id, pid] of pids) {
      const used = cpuAfter.get(id)! - cpuBefore.get(id)!;
      rolesCpu += used;
      roles[id] = {
        pid,
        idleRssMb: round(idle.get(id)?.rssMb ?? NaN),
        peakRssMb: round(memory(pid)?.peakRssMb ?? NaN),
        chainCpuSeconds: round(used, 2),
        chainCpuPercent: round((used / chain.durationS) * 100),
        chainCpuByThread: threadDelta(threadsBefore.get(id)!, threadsAfter.get(id)!),
      };
    }

    let dataPlaneCheck: DataPlaneCheck | undefined;
    if (dataPlane.real && publisher && consumer) {
      progress('waiting for the queue to drain');
      dataPlaneCheck = await awaitDrained(platform.url(publisher), platform.url(consumer), options.drainTimeoutS * 1000);
      if (sink && mongoUrl) dataPlaneCheck.documents = (await countDocuments(mongoUrl, sink.database, sink.collection)) - documentsBefore;
    }

    const healthUrl = `${platform.url(edge)}/api/health`;
    progress(`ceiling: GET /api/health on ${edge}, ${options.ceilingDurationS} s`);
    if (options.warmupS > 0) await generateLoad({ ...spec, url: healthUrl, durationS: Math.min(1, options.warmupS) });
    const ceiling = { ...(await generateLoad({ ...spec, url: healthUrl, durationS: options.ceilingDurationS })), role: edge };

    if (unexpected.length > 0) throw new Error(`roles ended during the bench: ${unexpected.join(', ')}`);
    await platform.stop();
    platform = undefined;

    let tracing: ScenarioResult['tracing'];
    if (collector) {
      // Exporters batch spans (and flush on shutdown): wait until nothing new arrives.
      const spans = await collector.settle(1500, 15_000);
      tracing = { ...spans, greetingRequests, collectorCpuSeconds: round(cpuSeconds(collector.pid) ?? NaN, 2) };
    }

    return {
      scenario,
      label: labelOf(scenario),
      backends: dataPlane.flavour,
      warmupS,
      chain,
      ceiling,
      hops,
      ratio: round((chain.requestsPerSecond * hops) / ceiling.requestsPerSecond, 3),
      roles,
      rolesCpuPerRequestUs: round((rolesCpu / Math.max(1, chain.requests)) * 1e6, 0),
      loadGeneratorCpuPercent: round((chain.cpuSeconds / chain.durationS) * 100),
      dataPlane: dataPlaneCheck,
      dataPlaneServers: dataPlaneServers.length > 0 ? dataPlaneServers : undefined,
      tracing,
    };
  } finally {
    await platform?.stop();
    await collector?.stop();
    await dataPlane.stop();
  }
}
