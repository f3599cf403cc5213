/**
 * One scenario through its life: `setUp` starts (or finds) the subject, checks the first answer, reads idle memory and warms
 * up; `measure` is one round (a short re-warm, the measured chain load with each process's CPU counted, the data plane drained
 * and counted, the ceiling); `finish` stops what the bench started and sums everything up. main.ts sets every scenario up,
 * then calls `measure` round-robin, so the rounds of different scenarios alternate in time on the shared machine.
 *
 * Every answer of every load run (warm-up included) is checked (correctness.ts); with a real data plane, each collection's new
 * documents are compared with the greetings the answers carried in each phase of load (only one scenario is loaded at a time,
 * so each phase's documents are its own even when scenarios share the servers).
 */
import type { PlatformConfig } from '../src/config/schema';
import { addCounts, AnswerChecker, expectedChain, type CorrectnessCounts, type ExpectedGreeting } from './correctness';
import { awaitDrained, countCollections, samplesStored, storedCollections, type DataPlaneCheck, type StoredCheck, type StoredCollection } from './data-plane';
import { generateLoad } from './load';
import type { LoadResult, LoadSpec } from './load-generator';
import { labelOf, type BenchOptions, type Scenario } from './options';
import { cpuSeconds, memory, pidListeningOn, processName, threadCpuSeconds } from './proc-stats';
import { spread, spreadsOf, type FigureKey, type Spread } from './rounds';
import { startSubject, type Subject, type TracingOutcome } from './subject';

export interface ProcessStats {
  pid: number;
  /** CPU seconds the process used during the measured chain load, and that as a share of one core and per chain request. */
  chainCpuSeconds: number;
  chainCpuPercent: number;
  cpuPerRequestUs: number;
  /** The chain-load CPU seconds by thread name (main = the JavaScript thread), largest first. */
  chainCpuByThread: Record<string, number>;
  /** VmHWM after the chain load: the most the process ever held. */
  peakRssMb: number;
}

export interface RoundResult {
  round: number;
  startedAt: string;
  chain: LoadResult;
  /** Load on the edge's /api/health: one hop's capacity. Absent when skipped or when the edge has no such route. */
  ceiling?: LoadResult;
  /** chain req/s x hops / ceiling req/s: the share of single-hop capacity the chain achieves. */
  ratio?: number;
  processes: Record<string, ProcessStats>;
  /** CPU microseconds all known processes together spent per chain request; absent when none is known. */
  cpuPerRequestUs?: number;
  loadGeneratorCpuPercent: number;
  /** After this round's load: D's published and F's stored counters, once drained. */
  dataPlane?: DataPlaneCheck;
  /** This round's load (re-warm and chain): greetings answered vs documents stored, per collection. */
  stored?: StoredCheck[];
  /** CPU the data-plane servers on this machine used during the chain load (servers elsewhere are not visible). */
  dataPlaneServers?: { name: string; url: string; pid: number; chainCpuSeconds: number; chainCpuPercent: number }[];
}

export interface IdleProcess {
  pid: number;
  /** RSS once ready, before any load. */
  idleRssMb: number;
  /** PSS at the same moment (proc-stats.ts says why both). */
  idlePssMb: number;
  /** Loads database or queue drivers in this scenario. */
  drivers: boolean;
}

export interface ScenarioResult {
  scenario: Scenario;
  label: string;
  edgeUrl: string;
  /** What served the data plane. */
  backends: string;
  /** Greetings in a whole answer. */
  hops: number;
  expected: ExpectedGreeting[];
  setup: {
    /** Seconds of warm-up load (the option, plus what the JIT needed). */
    warmupS: number;
    idle: Record<string, IdleProcess>;
    /** The first answer and the warm-up's answers. */
    correctness: CorrectnessCounts;
    stored?: StoredCheck[];
    /** Why there is no ceiling run, when there is none. */
    ceilingSkipped?: string;
  };
  rounds: RoundResult[];
  /** Median and range over the rounds of each figure. */
  summary: Partial<Record<FigureKey, Spread>>;
  /** Each process's CPU per chain request over the rounds. */
  processSummary: Record<string, { cpuPerRequestUs: Spread; chainCpuPercent: Spread; peakRssMb: number }>;
  /** Every answer the scenario got: first answer, warm-up, re-warms and measured loads. */
  correctness: CorrectnessCounts;
  /** Requests of every load that got no answer (connection errors, timeouts). */
  unanswered: number;
  /** Answers of the measured chain loads only. */
  measuredCorrectness: CorrectnessCounts;
  /** Totals over every phase of load. */
  stored?: StoredCheck[];
  tracing?: TracingOutcome & { greetingRequests: number };
  /** The round whose chain req/s is the median: the one the latency charts show. */
  chartRound: number;
  /** Processes that ended during the scenario. */
  failures: string[];
}

const EXTRA_WARMUP_STEP_S = 2;
/** Below this share of the processes' CPU the compiler is done with the hot paths. */
const JIT_SETTLED_SHARE = 0.03;
/** Before each measured round: the other scenarios ran meanwhile, so connections and caches settle again. */
const REWARM_S = 1;

const round = (v: number, digits = 1) => Math.round(v * 10 ** digits) / 10 ** digits;

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

export class ScenarioRun {
  private readonly rounds: RoundResult[] = [];
  private readonly phases: CorrectnessCounts[] = [];
  private readonly storedPhases: StoredCheck[][] = [];
  private greetingRequests = 0;
  private unanswered = 0;
  private healthAnswers = true;
  /** What set-up found; set by prepare(), before any round. */
  private setup?: ScenarioResult['setup'];

  private constructor(
    private readonly options: BenchOptions,
    readonly scenario: Scenario,
    readonly label: string,
    private readonly subject: Subject,
    private readonly expected: ExpectedGreeting[],
    private readonly collections: StoredCollection[],
    private readonly progress: (msg: string) => void,
  ) {}

  static async setUp(config: PlatformConfig, options: BenchOptions, scenario: Scenario, progress: (msg: string) => void): Promise<ScenarioRun> {
    const subject = await startSubject(config, scenario, progress);
    const collections = subject.dataPlane ? storedCollections(config) : [];
    const run = new ScenarioRun(options, scenario, labelOf(scenario), subject, expectedChain(config), collections, progress);
    try {
      await run.prepare();
    } catch (err) {
      await subject.stop().catch(() => undefined);
      throw err;
    }
    return run;
  }

  private spec(url: string, durationS: number, checked: boolean): LoadSpec {
    return { url, connections: this.options.concurrency, durationS, timeoutS: 10, clockSkewMs: this.options.clockSkewMs, ...(checked ? { expected: this.expected } : {}) };
  }

  private get greetingUrl(): string {
    return `${this.subject.edgeUrl}/api/greeting`;
  }

  /** A load run on the greeting route, every answer checked and counted into the current phase. */
  private async greetings(durationS: number, phase: CorrectnessCounts[]): Promise<LoadResult> {
    const result = await generateLoad(this.spec(this.greetingUrl, durationS, true));
    this.greetingRequests += result.requests;
    this.unanswered += result.errors;
    phase.push(result.correctness!);
    return result;
  }

  private async firstAnswer(phase: CorrectnessCounts[]): Promise<void> {
    const checker = new AnswerChecker(this.expected, { clockSkewMs: this.options.clockSkewMs });
    const sentAt = Date.now();
    const response = await fetch(this.greetingUrl, { signal: AbortSignal.timeout(15_000) });
    const body = await response.text();
    this.greetingRequests++;
    if (!checker.check(response.status, body, sentAt, Date.now())) {
      const reason = Object.keys(checker.result().reasons)[0];
      this.progress(`the first answer is wrong (${reason}): ${response.status} ${body.slice(0, 200)}`);
    }
    phase.push(checker.result());
    const health = await fetch(`${this.subject.edgeUrl}/api/health`, { signal: AbortSignal.timeout(15_000) }).catch(() => undefined);
    this.healthAnswers = health?.status === 200;
    await health?.arrayBuffer();
  }

  private async prepare(): Promise<void> {
    const phase: CorrectnessCounts[] = [];
    const storedBefore = await this.countStored();
    await this.firstAnswer(phase);
    // Let start-up garbage settle before reading what an idle process holds.
    await Bun.sleep(1000);
    const idle: Record<string, IdleProcess> = {};
    for (const [name, pid] of this.subject.processes) {
      const m = memory(pid);
      idle[name] = { pid, idleRssMb: round(m?.rssMb ?? NaN), idlePssMb: round(m?.pssMb ?? NaN), drivers: this.subject.withDrivers.has(name) };
    }

    const { warmupS: asked, maxExtraWarmupS } = this.options;
    let warmupS = 0;
    if (asked > 0) {
      this.progress(`warming up ${asked} s`);
      await this.greetings(asked, phase);
      warmupS = asked;
      // Bun's JIT compiles hot code for a number of calls, not seconds: a slow configuration (tracing on, real servers) needs
      // more time. Keep warming while the compiler threads still take a visible share of the processes' CPU.
      const pids = [...this.subject.processes.values()];
      while (pids.length > 0 && warmupS + EXTRA_WARMUP_STEP_S <= asked + maxExtraWarmupS) {
        const before = pids.map(threadCpuSeconds);
        await this.greetings(EXTRA_WARMUP_STEP_S, phase);
        warmupS += EXTRA_WARMUP_STEP_S;
        const jitShare = shareOf('JITWorker', before, pids.map(threadCpuSeconds));
        if (jitShare < JIT_SETTLED_SHARE) break;
        this.progress(`the JIT still takes ${Math.round(jitShare * 100)}% of the processes' CPU: warming up ${EXTRA_WARMUP_STEP_S} s more`);
      }
    }
    const correctness = addCounts(phase);
    this.phases.push(correctness);
    const stored = await this.storedSince(storedBefore, correctness);
    this.setup = {
      warmupS,
      idle,
      correctness,
      stored,
      ceilingSkipped: this.options.ceilingDurationS <= 0 ? 'skipped (--ceiling-duration 0)' : this.healthAnswers ? undefined : "the edge's /api/health did not answer 200",
    };
  }

  private async countStored(): Promise<number[] | undefined> {
    return this.subject.dataPlane ? countCollections(this.subject.dataPlane.mongoUrl, this.collections) : undefined;
  }

  /** Drains the queue, then compares each collection's new documents with the greetings of its roles that were answered. */
  private async storedSince(before: number[] | undefined, answered: CorrectnessCounts): Promise<StoredCheck[] | undefined> {
    const plane = this.subject.dataPlane;
    if (!plane || !before) return undefined;
    if (plane.publisherUrl && plane.consumerUrl) await awaitDrained(plane.publisherUrl, plane.consumerUrl, this.options.drainTimeoutS * 1000);
    const after = await countCollections(plane.mongoUrl, this.collections);
    const samples = answered.lastExactIds ? await samplesStored(plane.mongoUrl, this.collections, answered.lastExactIds) : undefined;
    const checks = this.collections.map((c, i) => ({
      collection: c.name,
      roles: c.roles,
      answered: c.roles.reduce((n, role) => n + (answered.greetingsByRole[role] ?? 0), 0),
      stored: after[i]! - before[i]!,
      sampleFound: samples?.[i],
    }));
    this.storedPhases.push(checks);
    return checks;
  }

  /** One measured round. */
  async measure(roundNo: number): Promise<RoundResult> {
    const { options, subject } = this;
    const phase: CorrectnessCounts[] = [];
    const startedAt = new Date().toISOString();
    const storedBefore = await this.countStored();
    if (options.warmupS > 0) await this.greetings(Math.min(REWARM_S, options.warmupS), phase);

    this.progress(`round ${roundNo}: GET /api/greeting, ${options.concurrency} connections, ${options.durationS} s`);
    const pids = subject.processes;
    const servers = subject.dataPlane ? localServers(subject.dataPlane.env) : [];
    const serversBefore = servers.map((s) => cpuSeconds(s.pid) ?? 0);
    const cpuBefore = new Map([...pids].map(([id, pid]) => [id, cpuSeconds(pid) ?? 0]));
    const threadsBefore = new Map([...pids].map(([id, pid]) => [id, threadCpuSeconds(pid)]));
    const measured: CorrectnessCounts[] = [];
    const chain = await this.greetings(options.durationS, measured);
    const cpuAfter = new Map([...pids].map(([id, pid]) => [id, cpuSeconds(pid) ?? 0]));
    const threadsAfter = new Map([...pids].map(([id, pid]) => [id, threadCpuSeconds(pid)]));
    phase.push(...measured);
    const dataPlaneServers = servers.map((s, i) => {
      const used = (cpuSeconds(s.pid) ?? 0) - serversBefore[i]!;
      return { ...s, chainCpuSeconds: round(used, 2), chainCpuPercent: round((used / chain.durationS) * 100) };
    });

    const processes: Record<string, ProcessStats> = {};
    let allCpu = 0;
    for (const [id, pid] of pids) {
      const used = cpuAfter.get(id)! - cpuBefore.get(id)!;
      allCpu += used;
      processes[id] = {
        pid,
        chainCpuSeconds: round(used, 2),
        chainCpuPercent: round((used / chain.durationS) * 100),
        cpuPerRequestUs: round((used / Math.max(1, chain.requests)) * 1e6, 0),
        chainCpuByThread: threadDelta(threadsBefore.get(id)!, threadsAfter.get(id)!),
        peakRssMb: round(memory(pid)?.peakRssMb ?? NaN),
      };
    }

    let dataPlane: DataPlaneCheck | undefined;
    const plane = subject.dataPlane;
    if (plane?.publisherUrl && plane.consumerUrl) {
      this.progress('waiting for the queue to drain');
      dataPlane = await awaitDrained(plane.publisherUrl, plane.consumerUrl, options.drainTimeoutS * 1000);
    }
    const correctness = addCounts(phase);
    this.phases.push(correctness);
    const stored = await this.storedSince(storedBefore, correctness);

    let ceiling: LoadResult | undefined;
    if (!this.setup!.ceilingSkipped) {
      const healthUrl = `${subject.edgeUrl}/api/health`;
      this.progress(`round ${roundNo}: ceiling, GET /api/health, ${options.ceilingDurationS} s`);
      if (options.warmupS > 0) await generateLoad(this.spec(healthUrl, Math.min(REWARM_S, options.warmupS), false));
      ceiling = await generateLoad(this.spec(healthUrl, options.ceilingDurationS, false));
    }

    const result: RoundResult = {
      round: roundNo,
      startedAt,
      chain,
      ceiling,
      ratio: ceiling && ceiling.requestsPerSecond > 0 ? round((chain.requestsPerSecond * this.expected.length) / ceiling.requestsPerSecond, 3) : undefined,
      processes,
      cpuPerRequestUs: pids.size > 0 ? round((allCpu / Math.max(1, chain.requests)) * 1e6, 0) : undefined,
      loadGeneratorCpuPercent: round((chain.cpuSeconds / chain.durationS) * 100),
      dataPlane,
      stored,
      dataPlaneServers: dataPlaneServers.length > 0 ? dataPlaneServers : undefined,
    };
    this.rounds.push(result);
    return result;
  }

  /** Stops what the bench started and sums the rounds up. */
  async finish(): Promise<ScenarioResult> {
    const failures = this.subject.unexpectedExits();
    const tracing = await this.subject.stop();
    const summary = spreadsOf(this.rounds);
    const byRps = [...this.rounds].sort((a, b) => a.chain.requestsPerSecond - b.chain.requestsPerSecond);
    const processSummary: ScenarioResult['processSummary'] = {};
    for (const name of this.subject.processes.keys()) {
      const stats = this.rounds.map((r) => r.processes[name]!);
      processSummary[name] = {
        cpuPerRequestUs: spread(stats.map((s) => s.cpuPerRequestUs))!,
        chainCpuPercent: spread(stats.map((s) => s.chainCpuPercent))!,
        peakRssMb: Math.max(...stats.map((s) => s.peakRssMb)),
      };
    }
    return {
      scenario: this.scenario,
      label: this.label,
      edgeUrl: this.subject.edgeUrl,
      backends: this.subject.backends,
      hops: this.expected.length,
      expected: this.expected,
      setup: this.setup!,
      rounds: this.rounds,
      summary,
      processSummary,
      correctness: addCounts(this.phases),
      unanswered: this.unanswered,
      measuredCorrectness: addCounts(this.rounds.map((r) => r.chain.correctness)),
      stored: this.storedPhases.length > 0 ? sumStored(this.storedPhases) : undefined,
      tracing: tracing ? { ...tracing, greetingRequests: this.greetingRequests } : undefined,
      chartRound: byRps[Math.floor((byRps.length - 1) / 2)]?.round ?? 1,
      failures,
    };
  }

  /** Stops the subject after a failure, without a result. */
  async abandon(): Promise<void> {
    await this.subject.stop().catch(() => undefined);
  }
}

function sumStored(phases: StoredCheck[][]): StoredCheck[] {
  return phases[0]!.map((first, i) => ({
    collection: first.collection,
    roles: first.roles,
    answered: phases.reduce((n, p) => n + p[i]!.answered, 0),
    stored: phases.reduce((n, p) => n + p[i]!.stored, 0),
    sampleFound: sampleOf(phases.map((p) => p[i]!.sampleFound)),
  }));
}

/** Found in every phase that looked; undefined when none could look (no answer was exact). */
function sampleOf(found: (boolean | undefined)[]): boolean | undefined {
  const looked = found.filter((f): f is boolean => f !== undefined);
  return looked.length > 0 ? looked.every(Boolean) : undefined;
}

