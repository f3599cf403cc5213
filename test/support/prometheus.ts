/**
 * A real Prometheus for tests (Debian's `prometheus` 2.42, installed by scripts/ci/install-observability.sh): started with a
 * generated config on a free loopback port and a throwaway data directory, queried through the HTTP API Grafana uses
 * (`/api/v1/query`, `/api/v1/targets`, `/api/v1/query_exemplars`). Exemplar storage is on, as deploy/istio/install.sh turns
 * it on in the cluster's Prometheus. promtool, from the same package, checks a config the way Prometheus would load it.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { stringify } from 'yaml';
import { freePort } from '../../src/platform/processes';
import { ownedProcess } from './owned-process';
import { compareVersions, requireTool, type FoundTool } from './tools';

export const PROMETHEUS_MIN_VERSION = '2.42';
const ELSEWHERE = 'a Prometheus 2.42+ release archive from prometheus.io/download (prometheus and promtool side by side) on PATH';

const versionSpec = (command: string) => ({
  command,
  versionArgs: ['--version'],
  parseVersion: (out: string) => new RegExp(`^${command}, version (\\d+\\.\\d+\\.\\d+)`).exec(out)?.[1],
  want: `${PROMETHEUS_MIN_VERSION} or newer`,
  accepts: (version: string) => compareVersions(version, PROMETHEUS_MIN_VERSION) >= 0,
  elsewhere: ELSEWHERE,
});

export function prometheusBinary(): FoundTool {
  return requireTool({ ...versionSpec('prometheus'), envVar: 'PROMETHEUS_BIN', candidates: [] });
}

/** promtool next to the Prometheus in use, so both are of one release. */
export function promtoolBinary(): FoundTool {
  const prometheus = prometheusBinary();
  return requireTool({ ...versionSpec('promtool'), envVar: 'PROMTOOL_BIN', candidates: [join(dirname(prometheus.path), 'promtool')] });
}

/** `promtool check config` on a config file: the exit status and what it said. */
export function checkConfig(file: string): { ok: boolean; output: string } {
  const run = spawnSync(promtoolBinary().path, ['check', 'config', file], { encoding: 'utf8', timeout: 30_000 });
  return { ok: run.status === 0, output: `${run.stdout}${run.stderr}`.trim() };
}

export interface ScrapeTarget {
  scrapeUrl: string;
  health: 'up' | 'down' | 'unknown';
  lastError: string;
  /** When it was last scraped (RFC 3339). */
  lastScrape: string;
  labels: Record<string, string>;
}

/** The exemplars of one series, as `/api/v1/query_exemplars` answers. */
export interface SeriesExemplars {
  seriesLabels: Record<string, string>;
  exemplars: { labels: Record<string, string>; value: string; timestamp: number }[];
}

/** One series of an instant query: its labels and its value (a string, as Prometheus sends it: '0.5', 'NaN'). */
export interface InstantSample {
  metric: Record<string, string>;
  value: [number, string];
}

export interface Prometheus {
  readonly version: string;
  readonly url: string;
  /** The config file it runs, as written. */
  readonly configFile: string;
  targets(): Promise<ScrapeTarget[]>;
  /** Waits until every target has been scraped successfully after this call began (so what happened before is in the TSDB). */
  waitForScrapes(timeoutMs?: number): Promise<void>;
  /** An instant query (`/api/v1/query`); throws on a query error, so a broken expression fails loudly. */
  query(expr: string): Promise<InstantSample[]>;
  /** The exemplars stored for the series `expr` selects between two times (Unix seconds). */
  exemplars(expr: string, start: number, end: number): Promise<SeriesExemplars[]>;
  stop(): Promise<void>;
}

interface ApiAnswer<T> {
  status: 'success' | 'error';
  data: T;
  error?: string;
  errorType?: string;
}

async function api<T>(url: string): Promise<T> {
  const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  const body = (await response.json()) as ApiAnswer<T>;
  if (body.status !== 'success') throw new Error(`${url}: ${body.errorType}: ${body.error}`);
  return body.data;
}

/**
 * Starts Prometheus with `config` (a Prometheus config object; it is written as YAML) and waits until it is ready. Throws with
 * the install hint when the binary is missing or too old.
 */
export async function startPrometheus(config: object): Promise<Prometheus> {
  const binary = prometheusBinary();
  const proc = ownedProcess('prometheus');
  const configFile = join(proc.dir, 'prometheus.yml');
  writeFileSync(configFile, stringify(config));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  proc.launch(binary.path, [
    `--config.file=${configFile}`,
    `--storage.tsdb.path=${join(proc.dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--storage.tsdb.retention.time=1h',
    '--enable-feature=exemplar-storage',
    '--log.level=warn',
  ]);
  let last = '';
  for (const deadline = Date.now() + 30_000; ; await Bun.sleep(100)) {
    if (proc.hasExited() || Date.now() > deadline) {
      const why = proc.hasExited() ? 'it exited' : `not within 30 s; last: ${last}`;
      const log = proc.logTail();
      await proc.stop();
      throw new Error(`Prometheus ${binary.path} did not become ready on ${url} (${why}):\n${log}`);
    }
    try {
      const ready = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1_000) });
      await ready.arrayBuffer();
      if (ready.status === 200) break;
      last = `/-/ready answered ${ready.status}`;
    } catch (err) {
      last = (err as Error).message;
    }
  }

  const targets = async () => {
    const data = await api<{ activeTargets: ScrapeTarget[] }>(`${url}/api/v1/targets?state=active`);
    return data.activeTargets;
  };
  return {
    version: binary.version,
    url,
    configFile,
    targets,
    async waitForScrapes(timeoutMs = 30_000) {
      const since = Date.now();
      let problem = '';
      for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await Bun.sleep(200)) {
        const all = await targets();
        const behind = all.filter((t) => t.health !== 'up' || Date.parse(t.lastScrape) <= since);
        if (all.length > 0 && behind.length === 0) return;
        problem = behind.map((t) => `${t.scrapeUrl} ${t.health}${t.lastError ? `: ${t.lastError}` : ''}`).join('; ') || 'no targets';
      }
      throw new Error(`Prometheus: not every target was scraped successfully within ${timeoutMs / 1000} s: ${problem}`);
    },
    async query(expr) {
      const data = await api<{ resultType: string; result: InstantSample[] }>(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`);
      if (data.resultType !== 'vector') throw new Error(`${expr}: a ${data.resultType}, not an instant vector`);
      return data.result;
    },
    exemplars: (expr, start, end) =>
      api<SeriesExemplars[]>(`${url}/api/v1/query_exemplars?query=${encodeURIComponent(expr)}&start=${start}&end=${end}`),
    stop: () => proc.stop(),
  };
}
