/**
 * One role of two or more builds, compared in alternation: `bun bench/role-alone.ts --role g --build now=dist/greeting-mesh
 * --build main=../main/dist/greeting-mesh`. Each build runs as the role, one process with the env a pod gets; the role's
 * upstreams, if it has any, are the bare Bun chain (bench/fixtures/bare-chain.ts, compiled here), shared by all builds, so
 * what is measured is the role itself. Each build is loaded in turn (a closed loop of keep-alive fetches, every answer
 * checked against the greetings the config implies), and its CPU per request is read from /proc around each round.
 *
 * Why this beside the chain bench: with eight processes and the load generator on two cores, the chain's CPU per request
 * moved by 10-25% between runs of one build on a slow day, more than most changes are worth. Two copies of one build, one
 * role in alternation over 20 rounds, agreed within 1-3% in most runs here (8% in one), so a change of a few microseconds
 * in a role shows; giving each build twice shows the run's own noise.
 */
import { join } from 'node:path';
import { upstreamEnvName } from '../src/config/facts';
import type { PlatformConfig } from '../src/config/schema';
import { loadConfig } from '../src/config/settings';
import { ProcessPlatform } from '../src/platform/processes';
import { compile, scratchDir } from './compile';
import { AnswerChecker, expectedChain } from './correctness';
import { cpuSeconds, memory, threadCpuSeconds } from './proc-stats';

export const ROLE_ALONE_USAGE = `Usage: bun bench/role-alone.ts --role ID --build NAME=BINARY --build NAME=BINARY [options]
  --role ID            the role every build runs as (a config id: a, b, ... h)
  --build NAME=BINARY  a build to compare (repeat; the first is what the others are compared with)
  --build-env NAME=JSON  extra env for one build, a JSON object
  --env JSON           extra env for every build, a JSON object (e.g. '{"ZIPKIN_URL":"http://127.0.0.1:9411/api/v2/spans"}')
  --rounds N           rounds, each build loaded once a round (default 20)
  --round-ms MS        load per build per round (default 1000)
  --warm-up-ms MS      load per build before the first round, for the JIT (default 5000)
  --connections N      requests in flight (default 8)
  --sampled-caller     every request carries a new sampled B3 context, as from a traced caller (a traced role then
                       continues it instead of starting a trace)`;

export interface RoleAloneOptions {
  role: string;
  builds: { name: string; binary: string; env: Record<string, string> }[];
  env: Record<string, string>;
  rounds: number;
  roundMs: number;
  warmUpMs: number;
  connections: number;
  sampledCaller: boolean;
}

export interface BuildResult {
  name: string;
  /** CPU per request of each round, in µs. */
  cpuUs: number[];
  requestsPerSecond: number[];
  /** Answers that were not exactly the role's expected greetings (any status), over all rounds and the warm-up. */
  wrong: number;
  checked: number;
  reasons: Record<string, number>;
  /** Share of the process's CPU by thread name over the rounds. */
  threads: Record<string, number>;
  rssMb: number;
}

export class RoleAloneUsageError extends Error {}

function jsonObject(text: string, what: string): Record<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new RoleAloneUsageError(`${what}: not JSON: ${text}`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed) || !Object.values(parsed).every((v) => typeof v === 'string'))
    throw new RoleAloneUsageError(`${what}: must be a JSON object of strings`);
  return parsed as Record<string, string>;
}

function positive(text: string | undefined, what: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new RoleAloneUsageError(`${what}: must be a whole number of at least 1, got ${text}`);
  return n;
}

export function parseRoleAloneArgs(argv: string[], config: PlatformConfig): RoleAloneOptions {
  const options: RoleAloneOptions = { role: '', builds: [], env: {}, rounds: 20, roundMs: 1000, warmUpMs: 5000, connections: 8, sampledCaller: false };
  const buildEnv = new Map<string, Record<string, string>>();
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    if (flag === '--sampled-caller') {
      options.sampledCaller = true;
      continue;
    }
    const value = argv[++i];
    if (value === undefined) throw new RoleAloneUsageError(`${flag}: needs a value`);
    const [name, rest] = value.split(/=(.*)/s) as [string, string | undefined];
    if (flag === '--role') options.role = value;
    else if (flag === '--build') {
      if (!name || !rest) throw new RoleAloneUsageError(`--build: NAME=BINARY, got ${value}`);
      if (options.builds.some((b) => b.name === name)) throw new RoleAloneUsageError(`--build: ${name} is given twice`);
      options.builds.push({ name, binary: rest, env: {} });
    } else if (flag === '--build-env') {
      if (!name || !rest) throw new RoleAloneUsageError(`--build-env: NAME=JSON, got ${value}`);
      buildEnv.set(name, jsonObject(rest, `--build-env ${name}`));
    } else if (flag === '--env') options.env = jsonObject(value, '--env');
    else if (flag === '--rounds') options.rounds = positive(value, flag);
    else if (flag === '--round-ms') options.roundMs = positive(value, flag);
    else if (flag === '--warm-up-ms') options.warmUpMs = positive(value, flag);
    else if (flag === '--connections') options.connections = positive(value, flag);
    else throw new RoleAloneUsageError(`unknown option ${flag}`);
  }
  if (!config.services[options.role]) throw new RoleAloneUsageError(`--role: ${options.role || '(none)'} is not a role of the config (${Object.keys(config.services).join(', ')})`);
  if (options.builds.length === 0) throw new RoleAloneUsageError('--build: give at least one');
  for (const [name, env] of buildEnv) {
    const build = options.builds.find((b) => b.name === name);
    if (!build) throw new RoleAloneUsageError(`--build-env: no --build named ${name}`);
    build.env = env;
  }
  return options;
}

/** The roles `role` calls, directly or not: the bare chain plays them. */
function upstreamTree(config: PlatformConfig, role: string): string[] {
  const ids = new Set<string>();
  const visit = (id: string) => {
    for (const up of config.services[id]!.upstreams) {
      if (ids.has(up)) continue;
      ids.add(up);
      visit(up);
    }
  };
  visit(role);
  return [...ids];
}

/** A closed loop of `connections` requests in flight for `ms`; every answer goes through the checker. Returns the answers. */
async function load(url: string, connections: number, ms: number, checker: AnswerChecker, sampledCaller: boolean): Promise<number> {
  const end = performance.now() + ms;
  let answers = 0;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < end) {
        const sentAt = Date.now();
        try {
          const headers: Record<string, string> = { 'x-request-id': crypto.randomUUID() };
          if (sampledCaller) {
            const traceId = crypto.randomUUID().replaceAll('-', '');
            Object.assign(headers, { 'x-b3-traceid': traceId, 'x-b3-spanid': traceId.slice(16), 'x-b3-sampled': '1' });
          }
          const response = await fetch(url, { headers });
          checker.check(response.status, await response.text(), sentAt, Date.now());
        } catch {
          checker.check(0, '', sentAt, Date.now());
          await Bun.sleep(10);
        }
        answers++;
      }
    }),
  );
  return answers;
}

export async function runRoleAlone(options: RoleAloneOptions, config: PlatformConfig, progress: (line: string) => void = () => {}): Promise<BuildResult[]> {
  const { role } = options;
  const upstreams = upstreamTree(config, role);
  const scratch = scratchDir();
  let floor: ProcessPlatform | undefined;
  const started: { build: RoleAloneOptions['builds'][number]; platform: ProcessPlatform; pid: number; port: number; checker: AnswerChecker; threads0: Record<string, number> }[] = [];
  try {
    const upstreamUrls: Record<string, string> = {};
    if (upstreams.length > 0) {
      const bare = join(scratch.path, 'bare-chain');
      progress(`compiling the bare Bun chain for the upstreams (${upstreams.join(', ')})`);
      compile(join(import.meta.dir, 'fixtures', 'bare-chain.ts'), bare);
      const services = Object.fromEntries(upstreams.map((id) => [id, config.services[id]!]));
      floor = new ProcessPlatform({ ...config, services }, { command: [bare], transport: 'http' });
      await floor.start(60_000);
      for (const up of config.services[role]!.upstreams) upstreamUrls[upstreamEnvName(up)] = floor.url(up);
    }
    const expected = expectedChain(config, role);
    for (const build of options.builds) {
      // A platform of this one role, for the env a pod gets; its upstreams are the floor's, given by roleEnv (the role reads
      // which they are from its own config), so the platform is told of none.
      const platform = new ProcessPlatform(
        { ...config, services: { [role]: { ...config.services[role]!, upstreams: [] } } },
        {
          command: [build.binary],
          env: { LOG_LEVEL: 'warn', DRAIN_DELAY_MS: '0', MEMORY_QUEUE_LIMIT: '5000000', ...options.env, ...build.env },
          roleEnv: { [role]: upstreamUrls },
          transport: 'http',
        },
      );
      await platform.start(30_000).catch(async (err: Error) => {
        await platform.stop();
        throw new Error(`${build.name} (${build.binary}): ${err.message}`);
      });
      started.push({ build, platform, pid: platform.roles.get(role)!.child.pid!, port: platform.ports.get(role)!, checker: new AnswerChecker(expected, { clockSkewMs: 5000 }), threads0: {} });
    }
    progress(`warming up each build for ${options.warmUpMs} ms`);
    for (const s of started) await load(`http://127.0.0.1:${s.port}/api/greeting`, options.connections, options.warmUpMs, s.checker, options.sampledCaller);
    for (const s of started) s.threads0 = threadCpuSeconds(s.pid);
    const results: BuildResult[] = started.map((s) => ({ name: s.build.name, cpuUs: [], requestsPerSecond: [], wrong: 0, checked: 0, reasons: {}, threads: {}, rssMb: 0 }));
    for (let round = 0; round < options.rounds; round++) {
      progress(`round ${round + 1} of ${options.rounds}`);
      for (const [i, s] of started.entries()) {
        const before = cpuSeconds(s.pid)!;
        const startedAt = performance.now();
        const answers = await load(`http://127.0.0.1:${s.port}/api/greeting`, options.connections, options.roundMs, s.checker, options.sampledCaller);
        const seconds = (performance.now() - startedAt) / 1000;
        const after = cpuSeconds(s.pid);
        if (after === undefined) throw new Error(`${s.build.name} exited during round ${round + 1}`);
        results[i]!.cpuUs.push(((after - before) * 1e6) / answers);
        results[i]!.requestsPerSecond.push(answers / seconds);
      }
    }
    for (const [i, s] of started.entries()) {
      const threads = threadCpuSeconds(s.pid);
      // Threads are summed by name: one of a name that exited meanwhile takes its time with it, which must not go negative.
      const spent = Object.fromEntries(Object.entries(threads).map(([name, secs]) => [name, Math.max(0, secs - (s.threads0[name] ?? 0))]));
      const total = Object.values(spent).reduce((a, b) => a + b, 0);
      const counts = s.checker.result();
      Object.assign(results[i]!, {
        wrong: counts.wrong,
        checked: counts.checked,
        reasons: counts.reasons,
        threads: Object.fromEntries(Object.entries(spent).filter(([, v]) => total > 0 && v / total >= 0.01).map(([k, v]) => [k, v / total])),
        rssMb: memory(s.pid)?.rssMb ?? NaN,
      });
    }
    return results;
  } finally {
    await Promise.all(started.map((s) => s.platform.stop()));
    await floor?.stop();
    scratch.dispose();
  }
}

const median = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

export function roleAloneText(role: string, results: BuildResult[]): string {
  const base = median(results[0]!.cpuUs);
  const lines = [`role ${role}, CPU per request (median [min-max] over ${results[0]!.cpuUs.length} rounds), against ${results[0]!.name}:`];
  for (const r of results) {
    const cpu = median(r.cpuUs);
    const threads = Object.entries(r.threads)
      .sort((a, b) => b[1] - a[1])
      .map(([name, share]) => `${name} ${Math.round(share * 100)}%`)
      .join(', ');
    lines.push(
      `  ${r.name.padEnd(12)} ${cpu.toFixed(1).padStart(7)} µs [${Math.min(...r.cpuUs).toFixed(1)}-${Math.max(...r.cpuUs).toFixed(1)}]  ${(cpu / base).toFixed(3)}×` +
        `  ${Math.round(median(r.requestsPerSecond))} req/s  wrong ${r.wrong} of ${r.checked}  RSS ${r.rssMb.toFixed(1)} MB  ${threads}`,
    );
    for (const [reason, n] of Object.entries(r.reasons)) lines.push(`      ${n} × ${reason}`);
  }
  return lines.join('\n');
}

if (import.meta.main) {
  const { config } = loadConfig();
  try {
    const options = parseRoleAloneArgs(process.argv.slice(2), config);
    const results = await runRoleAlone(options, config, (line) => console.error(line));
    console.log(roleAloneText(options.role, results));
    process.exitCode = results.some((r) => r.wrong > 0) ? 1 : 0;
  } catch (err) {
    if (err instanceof RoleAloneUsageError) {
      console.error(`${err.message}\n\n${ROLE_ALONE_USAGE}`);
      process.exitCode = 64;
    } else {
      console.error(`bench:role: ${(err as Error).message}`);
      process.exitCode = 1;
    }
  }
}
