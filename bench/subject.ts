/**
 * What a scenario puts under load, whoever started it: the edge's URL, the processes whose CPU and memory count, and, when the
 * bench owns them, the real data plane (so stored = answered can be checked) and the span collector. `startSubject` makes one
 * for each kind of scenario: the bench's own platform, the bare Bun chain (own-platform.ts), or an edge someone else runs.
 */
import type { PlatformConfig } from '../src/config/schema';
import { edgeRole } from '../src/config/facts';
import type { Scenario, TargetProcess, TargetScenario } from './options';
import { startBareChain, startOwnPlatform } from './own-platform';
import { pidListeningOn, processName } from './proc-stats';
import type { SpanCount } from './zipkin-collector';

export interface OwnedDataPlane {
  mongoUrl: string;
  /** The roles that publish and consume, for the drain check on their metrics. */
  publisherUrl?: string;
  consumerUrl?: string;
  env: Record<string, string>;
}

export interface Subject {
  /** Base URL of the edge (`http://127.0.0.1:PORT`). */
  edgeUrl: string;
  /** Processes whose CPU and memory the figures include, by name (a role id, or what the user called a target's PID). */
  processes: Map<string, number>;
  /** Of those, the ones that load database or queue drivers (their memory target is higher). */
  withDrivers: Set<string>;
  /** What serves the data plane, for the report. */
  backends: string;
  dataPlane?: OwnedDataPlane;
  /** True when the roles export spans to a collector of the bench's. */
  traced: boolean;
  /** Processes of the subject that ended on their own so far. */
  unexpectedExits(): string[];
  /** Stops what the bench started; with tracing, first waits for the exporters' last batches and returns what arrived. */
  stop(): Promise<TracingOutcome | undefined>;
}

export interface TracingOutcome extends SpanCount {
  collectorCpuSeconds: number;
}

/**
 * `--target-pids auto`: the process listening on each role's config port. Roles sharing a process (`npm start` without
 * --processes runs all of them in one) are one entry, named by all of them.
 */
function processesOnConfigPorts(config: PlatformConfig, scenario: TargetScenario): TargetProcess[] {
  const edgePort = config.services[edgeRole(config)]!.port;
  const urlPort = Number(new URL(scenario.url).port || 80);
  if (urlPort !== edgePort) throw new Error(`--target-pids auto: ${scenario.url} is not on the edge's config port ${edgePort}, so the config's ports do not name its processes`);
  const byPid = new Map<number, string[]>();
  for (const [id, role] of Object.entries(config.services)) {
    const pid = pidListeningOn(role.port);
    if (pid === undefined) throw new Error(`--target-pids auto: nothing listens on port ${role.port} (role ${id}) on this machine`);
    byPid.set(pid, [...(byPid.get(pid) ?? []), id]);
  }
  return [...byPid].map(([pid, ids]) => ({ name: ids.join('+'), pid }));
}

/** An edge the bench did not start: nothing to start or stop; its PIDs, when given, must be alive now. */
function externalTarget(config: PlatformConfig, scenario: TargetScenario): Subject {
  const given = scenario.processes === 'auto' ? processesOnConfigPorts(config, scenario) : scenario.processes;
  for (const p of given) {
    if (processName(p.pid) === 'unknown') throw new Error(`--target-pids: process ${p.pid} (${p.name}) of ${scenario.url} is not running`);
  }
  const processes = new Map(given.map((p) => [p.name, p.pid]));
  return {
    edgeUrl: scenario.url,
    processes,
    withDrivers: new Set(),
    backends: 'not known (a target the bench did not start)',
    traced: false,
    unexpectedExits: () => given.filter((p) => processName(p.pid) === 'unknown').map((p) => `${p.name} (pid ${p.pid}) ended`),
    stop: async () => undefined,
  };
}

export async function startSubject(config: PlatformConfig, scenario: Scenario, progress: (msg: string) => void): Promise<Subject> {
  if (scenario.kind === 'target') return externalTarget(config, scenario);
  if (scenario.kind === 'bare') return startBareChain(config, progress);
  return startOwnPlatform(config, scenario, progress);
}
