/**
 * `bun bench/main.ts`: how fast the whole chain is, whether it answers right under load, and where the time goes. Measures
 * start-up against a bare compiled Bun server, sets every scenario up (the bench's own platform per artifact x backends x
 * tracing x transport, the bare Bun chain, edges someone else runs), then measures them round-robin for --rounds rounds, prints
 * a summary, and writes the JSON results and an HTML page. Exits 1 when a scenario could not run or a process of one ended;
 * missed targets (wrong answers included) are reported, not fatal, because they depend on the machine and on the subject.
 */
import { join } from 'node:path';
import { loadConfig } from '../src/config/settings';
import { labelOf, parseOptions, USAGE, UsageError, type Artifact, type BenchOptions } from './options';
import { machine, ratiosText, scenarioText, startupText, targetsText, writeReport, type BenchReport } from './report';
import { ratiosOf } from './rounds';
import { ScenarioRun } from './scenario';
import { measureStartupSuite } from './startup-suite';
import { checkTargets } from './targets';

const DEFAULT_OUT = join(import.meta.dir, 'results');

function progress(msg: string): void {
  process.stderr.write(`[bench] ${msg}\n`);
}

async function bench(options: BenchOptions): Promise<number> {
  const { config } = loadConfig();
  const report: BenchReport = {
    startedAt: new Date().toISOString(),
    command: `bun bench/main.ts ${process.argv.slice(2).join(' ')}`.trim(),
    machine: machine(),
    options,
    scenarios: [],
    failed: [],
    ratios: [],
    targets: [],
  };
  const artifacts = [...new Set(options.scenarios.flatMap((s) => (s.kind === 'platform' ? [s.artifact] : [])))] as Artifact[];
  if (options.startupRuns > 0 && artifacts.length > 0) {
    report.startup = await measureStartupSuite(config, artifacts, options.startupRuns, progress);
    process.stdout.write(`${startupText(report.startup)}\n`);
  }

  const runs: ScenarioRun[] = [];
  for (const scenario of options.scenarios) {
    const label = labelOf(scenario);
    progress(`setting up ${label}`);
    try {
      runs.push(await ScenarioRun.setUp(config, options, scenario, (msg) => progress(`  ${label}: ${msg}`)));
    } catch (err) {
      report.failed.push({ label, error: (err as Error).message });
      progress(`${label} failed: ${(err as Error).message}`);
    }
  }
  // Round-robin: every scenario's n-th round runs before any scenario's (n+1)-th, so all of them see the same stretch of the
  // shared machine's load.
  const live = new Set(runs);
  for (let round = 1; round <= options.rounds; round++) {
    for (const run of runs) {
      if (!live.has(run)) continue;
      try {
        await run.measure(round);
      } catch (err) {
        live.delete(run);
        report.failed.push({ label: run.label, error: `round ${round}: ${(err as Error).message}` });
        progress(`${run.label} failed in round ${round}: ${(err as Error).message}`);
        await run.abandon();
      }
    }
  }
  for (const run of runs) {
    if (!live.has(run)) continue;
    const result = await run.finish();
    report.scenarios.push(result);
    process.stdout.write(`${scenarioText(result)}\n`);
  }

  report.ratios = ratiosOf(report.scenarios);
  report.targets = checkTargets(report.scenarios, report.startup);
  process.stdout.write(`${ratiosText(report.ratios)}\n${targetsText(report.targets)}\n`);
  const paths = writeReport(report, options.outDir);
  process.stdout.write(`\nresults: ${paths.json}\npage:    ${paths.html}\n`);
  const ended = report.scenarios.some((s) => s.failures.length > 0);
  return report.failed.length > 0 || ended ? 1 : 0;
}

let options: BenchOptions | undefined;
try {
  options = parseOptions(process.argv.slice(2), DEFAULT_OUT);
} catch (err) {
  if (!(err instanceof UsageError)) throw err;
  process.stderr.write(`${err.message}\n\n${USAGE}\n`);
  process.exit(64);
}
if (!options) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
process.exit(await bench(options));
