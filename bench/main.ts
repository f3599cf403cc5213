/**
 * `bun bench/main.ts`: how fast the whole chain is, and where the time goes. Measures exec-to-ready per role, then runs every
 * scenario the options ask for (artifact x backends x tracing) one after another on the same machine, prints a summary, and
 * writes the JSON results and an HTML latency chart. Exits 1 when a scenario could not run; missed targets are reported, not
 * fatal, because they depend on the machine.
 */
import { join } from 'node:path';
import { loadConfig } from '../src/config/settings';
import { commandFor } from './artifacts';
import { parseOptions, USAGE, UsageError, type BenchOptions } from './options';
import { machine, scenarioText, startupText, targetsText, writeReport, type BenchReport } from './report';
import { labelOf, runScenario, type ScenarioResult } from './scenario';
import { measureStartup, type StartupSample } from './startup';
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
    startup: {},
    scenarios: [],
    targets: [],
  };
  const artifacts = [...new Set(options.scenarios.map((s) => s.artifact))];
  if (options.startupRuns > 0) {
    for (const artifact of artifacts) {
      progress(`exec to readiness: ${artifact}, ${options.startupRuns} runs per role`);
      const samples: StartupSample[] = await measureStartup(commandFor(artifact), Object.keys(config.services), options.startupRuns);
      report.startup[artifact] = samples;
    }
    process.stdout.write(`${startupText(report.startup)}\n`);
  }
  let failed = 0;
  for (const scenario of options.scenarios) {
    const label = labelOf(scenario);
    progress(`scenario ${label}`);
    try {
      const result: ScenarioResult = await runScenario(config, options, scenario, (msg) => progress(`  ${msg}`));
      report.scenarios.push(result);
      process.stdout.write(`${scenarioText(result)}\n`);
    } catch (err) {
      failed++;
      process.stderr.write(`[bench] scenario ${label} failed: ${(err as Error).message}\n`);
    }
  }
  report.targets = checkTargets(report.scenarios, report.startup);
  process.stdout.write(`${targetsText(report.targets)}\n`);
  const paths = writeReport(report, options.outDir);
  process.stdout.write(`\nresults: ${paths.json}\nchart:   ${paths.html}\n`);
  return failed > 0 ? 1 : 0;
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
