/**
 * Is an answer of the chain exactly right? The expected greetings are derived from the config the way the edge builds its
 * answer (each role's upstreams' greetings in config order, recursively, then its own), so a config change moves the
 * expectation with it. Every answer of a load run goes through `AnswerChecker.check`: a fast wrong answer (a cache, a missing
 * subtree, the right greetings in the wrong order) is an error, not throughput.
 *
 * The check runs inside the load generator, on its hot path, so it is written to be cheap: one JSON.parse, then plain field
 * comparisons; reasons are built only for answers that fail.
 */
import { edgeRole, roleVersion } from '../src/config/facts';
import type { PlatformConfig } from '../src/config/schema';

export interface ExpectedGreeting {
  /** Role id in the config (`d`). */
  role: string;
  service: string;
  message: string;
  version: string;
}

/** What the edge of `config` answers, in order: upstreams first (config order, recursively), own greeting last. */
export function expectedChain(config: PlatformConfig, from: string = edgeRole(config)): ExpectedGreeting[] {
  const role = config.services[from]!;
  return [
    ...role.upstreams.flatMap((up) => expectedChain(config, up)),
    { role: from, service: role.name, message: role.greeting, version: roleVersion(config, from) },
  ];
}

export interface CorrectnessCounts {
  /** Answers received (any status). */
  checked: number;
  /** Status 200 and exactly the expected greetings, in order, every field well-formed. */
  exact: number;
  /** checked - exact: each of these is an error, whatever its status. */
  wrong: number;
  /** Why answers were wrong: the first problem of each, counted. */
  reasons: Record<string, number>;
  /** The first few wrong bodies (shortened), to see what came back. */
  examples: string[];
  /**
   * Well-formed greetings per role id seen in any answer, exact or not (a partial answer still carries the greetings of the
   * roles that answered, and those roles stored them): what stored = answered compares with.
   */
  greetingsByRole: Record<string, number>;
  /** Each role's greeting id in the last exact answer: what a store must hold (data-plane.ts looks them up). */
  lastExactIds?: Record<string, string>;
}

export interface CheckerOptions {
  /** How far a greeting's `created` may lie outside [request sent, answer received]: clocks of another host may differ. */
  clockSkewMs: number;
}

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;
const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
const MAX_EXAMPLES = 3;
const EXAMPLE_CHARS = 300;

/**
 * 52 of an id's random bits as a number: ids seen in one run are kept as numbers (a few bytes each, not a string each). Two
 * distinct uuids share them with probability n^2 / 2^53: about 1e-5 for the 280,000 greetings of a 10 s run at 4,000 req/s.
 */
function idKey(id: string): number {
  return parseInt(id.slice(24), 16) + parseInt(id[0]!, 16) * 2 ** 48;
}

export class AnswerChecker {
  private readonly counts: CorrectnessCounts;
  private readonly seenIds = new Set<number>();
  private readonly byRole: Map<string, string>;
  private lastExact: { id: string }[] | undefined;

  constructor(
    private readonly expected: ExpectedGreeting[],
    private readonly options: CheckerOptions = { clockSkewMs: 5000 },
  ) {
    this.counts = { checked: 0, exact: 0, wrong: 0, reasons: {}, examples: [], greetingsByRole: Object.fromEntries(expected.map((e) => [e.role, 0])) };
    this.byRole = new Map(expected.map((e) => [e.service, e.role]));
  }

  /** Checks one answer; `sentAt`/`receivedAt` are epoch milliseconds. Returns whether it was exact. */
  check(status: number, body: string, sentAt: number, receivedAt: number): boolean {
    this.counts.checked++;
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      return this.wrong(status === 200 ? 'body is not JSON' : `status ${status}`, body);
    }
    this.countGreetings(parsed);
    if (status !== 200) return this.wrong(`status ${status}`, body);
    const problem = this.problemOf(parsed, sentAt - this.options.clockSkewMs, receivedAt + this.options.clockSkewMs);
    if (problem) return this.wrong(problem, body);
    this.counts.exact++;
    this.lastExact = parsed as { id: string }[];
    return true;
  }

  result(): CorrectnessCounts {
    const counts = structuredClone(this.counts);
    if (this.lastExact) counts.lastExactIds = Object.fromEntries(this.expected.map((e, i) => [e.role, this.lastExact![i]!.id]));
    return counts;
  }

  private problemOf(parsed: unknown, earliest: number, latest: number): string | undefined {
    if (!Array.isArray(parsed)) return 'not a JSON array';
    if (parsed.length !== this.expected.length) return `${parsed.length} entries, expected ${this.expected.length}`;
    for (let i = 0; i < parsed.length; i++) {
      const want = this.expected[i]!;
      const g = parsed[i] as Record<string, unknown> | null;
      if (typeof g !== 'object' || g === null) return `entry ${i + 1} is not an object`;
      if (g.service !== want.service) return `entry ${i + 1} is ${typeof g.service === 'string' ? `'${g.service}'` : 'no service'}, expected '${want.service}'`;
      if (g.message !== want.message) return `${want.role}: message is not the configured greeting`;
      if (g.version !== want.version) return `${want.role}: version ${g.version === undefined ? 'missing' : `'${String(g.version)}'`}, expected '${want.version}'`;
      if (typeof g.id !== 'string' || !UUID_V4.test(g.id)) return `${want.role}: id is not a uuid v4`;
      if (typeof g.hostname !== 'string' || g.hostname === '') return `${want.role}: hostname is not a non-empty string`;
      if (typeof g.created !== 'string' || !ISO_8601.test(g.created)) return `${want.role}: created is not an ISO 8601 time`;
      const created = Date.parse(g.created);
      if (!(created >= earliest && created <= latest)) return `${want.role}: created outside the request's time (a stale answer?)`;
    }
    // Only once the answer is otherwise right: ids of a wrong answer would make a later, right one look like a repeat.
    for (const g of parsed as { id: string }[]) {
      const key = idKey(g.id);
      if (this.seenIds.has(key)) return 'a greeting id seen before (a replayed answer?)';
      this.seenIds.add(key);
    }
    return undefined;
  }

  private countGreetings(parsed: unknown): void {
    if (!Array.isArray(parsed)) return;
    for (const entry of parsed) {
      if (typeof entry !== 'object' || entry === null) continue;
      const g = entry as Record<string, unknown>;
      const role = typeof g.service === 'string' ? this.byRole.get(g.service) : undefined;
      if (role && typeof g.id === 'string' && g.error === undefined) this.counts.greetingsByRole[role]!++;
    }
  }

  private wrong(reason: string, body: string): false {
    this.counts.wrong++;
    this.counts.reasons[reason] = (this.counts.reasons[reason] ?? 0) + 1;
    if (this.counts.examples.length < MAX_EXAMPLES) this.counts.examples.push(body.length > EXAMPLE_CHARS ? `${body.slice(0, EXAMPLE_CHARS)}...` : body);
    return false;
  }
}

/** Totals of several runs' counts (warm-up and measured runs, rounds). */
export function addCounts(runs: (CorrectnessCounts | undefined)[]): CorrectnessCounts {
  const total: CorrectnessCounts = { checked: 0, exact: 0, wrong: 0, reasons: {}, examples: [], greetingsByRole: {} };
  for (const run of runs) {
    if (!run) continue;
    total.checked += run.checked;
    total.exact += run.exact;
    total.wrong += run.wrong;
    for (const [reason, n] of Object.entries(run.reasons)) total.reasons[reason] = (total.reasons[reason] ?? 0) + n;
    for (const example of run.examples) if (total.examples.length < MAX_EXAMPLES) total.examples.push(example);
    for (const [role, n] of Object.entries(run.greetingsByRole)) total.greetingsByRole[role] = (total.greetingsByRole[role] ?? 0) + n;
    if (run.lastExactIds) total.lastExactIds = run.lastExactIds;
  }
  return total;
}
