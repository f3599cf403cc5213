/**
 * Start-up against its floor, all in one run on the same machine state: a bare compiled `Bun.serve` built now with the
 * service's flags, every role of each artifact (without drivers; and the roles that use a store or a queue once more with
 * their drivers), and the bare server with each heavy import in front of it. All of them are exec'd in alternation, run after
 * run, and each role's time is reported as a ratio to the bare server's, which absorbs how slow the machine is at the moment.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { backendNeeds } from '../src/config/facts';
import type { PlatformConfig } from '../src/config/schema';
import { freePort } from '../src/platform/processes';
import { commandFor } from './artifacts';
import { compile, scratchDir } from './compile';
import type { Artifact } from './options';
import { sampleOf, startOnce, STARTUP_PROBE, type StartupRun, type StartupSample } from './startup';

export interface RoleStartup extends StartupSample {
  role: string;
  /** Started with MONGO_CONN / RABBITMQ_CONN set, so the role loads its drivers. */
  drivers: boolean;
  /** medianMs / the bare server's medianMs. */
  ratioToBare: number;
}

export interface ImportCost extends StartupSample {
  module: string;
  packages: string[];
  /** medianMs and rssMb less the bare server's. */
  addedMs: number;
  addedMb: number;
}

export interface StartupReport {
  probe: string;
  runs: number;
  bare: StartupSample;
  roles: Partial<Record<Artifact, RoleStartup[]>>;
  imports: ImportCost[];
  /** How the import costs were measured. */
  importMethod: string;
}

const BARE_SERVER = join(import.meta.dir, 'fixtures', 'bare-server.ts');

/** The heavy packages src/ imports, grouped as the issue names them. */
export const IMPORT_GROUPS: { module: string; packages: string[] }[] = [
  { module: 'elysia', packages: ['elysia', '@elysiajs/cors'] },
  { module: 'prom-client', packages: ['prom-client'] },
  // The same package as the roles load it: module by module, without the index's Pushgateway and cluster aggregator.
  { module: 'prom-client, as src/telemetry/prom.ts loads it', packages: [join(import.meta.dir, '..', 'src', 'telemetry', 'prom.ts')] },
  {
    module: '@opentelemetry/*',
    packages: [
      '@opentelemetry/api',
      '@opentelemetry/context-async-hooks',
      '@opentelemetry/core',
      '@opentelemetry/exporter-zipkin',
      '@opentelemetry/propagator-b3',
      '@opentelemetry/resources',
      '@opentelemetry/sdk-trace-base',
      '@opentelemetry/semantic-conventions',
    ],
  },
  // What a role needs with tracing off (the API's no-op tracer and attribute names), apart from the SDK and exporter.
  { module: '@opentelemetry/api', packages: ['@opentelemetry/api', '@opentelemetry/semantic-conventions'] },
  { module: 'mongodb', packages: ['mongodb'] },
  { module: 'amqplib', packages: ['amqplib'] },
  { module: '@grpc/grpc-js', packages: ['@grpc/grpc-js'] },
  { module: '@bufbuild/protobuf', packages: ['@bufbuild/protobuf'] },
];

/** An entry point that evaluates every module of the group (kept alive, so the bundler cannot drop it), then the bare server. */
function probeSource(packages: string[]): string {
  const imports = packages.map((p, i) => `import * as m${i} from '${p}';`).join('\n');
  return `${imports}\n(globalThis as Record<string, unknown>).__probe = [${packages.map((_, i) => `m${i}`).join(', ')}];\nimport '${BARE_SERVER}';\n`;
}

/** URLs the drivers load for and connect to in the background; nothing listens there, and liveness does not wait for them. */
async function driverEnv(): Promise<Record<string, string>> {
  return { MONGO_CONN: `mongodb://127.0.0.1:${await freePort()}/`, RABBITMQ_CONN: `amqp://127.0.0.1:${await freePort()}` };
}

const round1 = (v: number) => Math.round(v * 10) / 10;

interface Probe {
  command: string[];
  env: Record<string, string>;
  runs: StartupRun[];
}

export async function measureStartupSuite(
  config: PlatformConfig,
  artifacts: Artifact[],
  runs: number,
  progress: (msg: string) => void,
): Promise<StartupReport> {
  const scratch = scratchDir();
  try {
    progress(`compiling a bare Bun.serve and ${IMPORT_GROUPS.length} import probes as build:binary compiles the service`);
    const bareBinary = join(scratch.path, 'bare-server');
    compile(BARE_SERVER, bareBinary);
    const bare: Probe = { command: [bareBinary], env: {}, runs: [] };
    const imports = IMPORT_GROUPS.map((group, i) => {
      const entry = join(scratch.path, `probe-${i}.ts`);
      writeFileSync(entry, probeSource(group.packages));
      compile(entry, join(scratch.path, `probe-${i}`));
      return { group, probe: { command: [join(scratch.path, `probe-${i}`)], env: {}, runs: [] } as Probe };
    });
    const withDrivers = await driverEnv();
    const roles = artifacts.flatMap((artifact) =>
      Object.entries(config.services).flatMap(([role, settings]) => {
        const needs = backendNeeds(settings);
        return (needs.store || needs.queue ? [false, true] : [false]).map((drivers) => ({
          artifact,
          role,
          drivers,
          probe: { command: commandFor(artifact), env: { ROLE: role, ...(drivers ? withDrivers : {}) }, runs: [] } as Probe,
        }));
      }),
    );
    const all = [bare, ...roles.map((r) => r.probe), ...imports.map((i) => i.probe)];
    // One unmeasured exec of each first: the first exec of a fresh 100 MB file pays for reading it from disk.
    for (const p of all) await startOnce(p.command, p.env);
    // Round-robin, like the load rounds: the bare server and every subject see the same stretch of the machine's load.
    progress(`exec to ${STARTUP_PROBE} 200: ${runs} rounds of ${all.length} commands (bare Bun, each role of ${artifacts.join(', ')}, each import)`);
    for (let i = 0; i < runs; i++) for (const p of all) p.runs.push(await startOnce(p.command, p.env));

    const bareSample = sampleOf(bare.runs);
    const report: StartupReport = {
      probe: STARTUP_PROBE,
      runs,
      bare: bareSample,
      roles: {},
      imports: imports.map(({ group, probe }) => {
        const sample = sampleOf(probe.runs);
        return { ...group, ...sample, addedMs: round1(sample.medianMs - bareSample.medianMs), addedMb: round1(sample.rssMb - bareSample.rssMb) };
      }),
      importMethod: `each group imported before the bare server in an entry point compiled as build:binary compiles the service; exec to ${STARTUP_PROBE} 200 and RSS then, less the bare server's (medians of ${runs}, measured in alternation with it)`,
    };
    for (const r of roles) {
      const sample = sampleOf(r.probe.runs);
      (report.roles[r.artifact] ??= []).push({ role: r.role, drivers: r.drivers, ...sample, ratioToBare: Math.round((sample.medianMs / bareSample.medianMs) * 100) / 100 });
    }
    return report;
  } finally {
    scratch.dispose();
  }
}
