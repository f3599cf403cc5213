/**
 * Start-up against its floor, all in one run on the same machine state: a bare compiled `Bun.serve` built now with the
 * service's flags, then every role of each artifact (without drivers; and the roles that use a store or a queue once more with
 * their drivers), then what each heavy import adds to the bare server. Each role's time is reported as a ratio to the bare
 * server's, which absorbs how slow the machine is at the moment.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { backendNeeds } from '../src/config/facts';
import type { PlatformConfig } from '../src/config/schema';
import { freePort } from '../src/platform/processes';
import { commandFor } from './artifacts';
import { compile, scratchDir } from './compile';
import type { Artifact } from './options';
import { measureStartup, STARTUP_PROBE, type StartupSample } from './startup';

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

export async function measureStartupSuite(
  config: PlatformConfig,
  artifacts: Artifact[],
  runs: number,
  progress: (msg: string) => void,
): Promise<StartupReport> {
  const scratch = scratchDir();
  try {
    const bareBinary = join(scratch.path, 'bare-server');
    progress('compiling a bare Bun.serve with the flags of build:binary');
    compile(BARE_SERVER, bareBinary);
    // One unmeasured exec first: the first exec of a fresh 100 MB file pays for reading it from disk.
    await measureStartup([bareBinary], {}, 1);
    const bare = await measureStartup([bareBinary], {}, runs);
    const report: StartupReport = { probe: STARTUP_PROBE, runs, bare, roles: {}, imports: [], importMethod: '' };

    const withDrivers = await driverEnv();
    for (const artifact of artifacts) {
      progress(`exec to ${STARTUP_PROBE} 200: ${artifact}, ${runs} runs per role`);
      const command = commandFor(artifact);
      await measureStartup(command, { ROLE: Object.keys(config.services)[0]! }, 1);
      const roles: RoleStartup[] = [];
      for (const [role, settings] of Object.entries(config.services)) {
        const needs = backendNeeds(settings);
        const variants = needs.store || needs.queue ? [false, true] : [false];
        for (const drivers of variants) {
          const sample = await measureStartup(command, { ROLE: role, ...(drivers ? withDrivers : {}) }, runs);
          roles.push({ role, drivers, ...sample, ratioToBare: Math.round((sample.medianMs / bare.medianMs) * 100) / 100 });
        }
      }
      report.roles[artifact] = roles;
    }

    progress(`import costs: ${IMPORT_GROUPS.length} probes, each the bare server with one group imported first, compiled the same way`);
    report.importMethod = `each group imported before the bare server in an entry point compiled with build:binary's flags; exec to ${STARTUP_PROBE} 200 and RSS then, less the bare server's (median of ${runs})`;
    for (const group of IMPORT_GROUPS) {
      const entry = join(scratch.path, `probe-${report.imports.length}.ts`);
      const binary = join(scratch.path, `probe-${report.imports.length}`);
      writeFileSync(entry, probeSource(group.packages));
      compile(entry, binary);
      await measureStartup([binary], {}, 1);
      const sample = await measureStartup([binary], {}, runs);
      rmSync(binary);
      report.imports.push({ ...group, ...sample, addedMs: round1(sample.medianMs - bare.medianMs), addedMb: round1(sample.rssMb - bare.rssMb) });
    }
    return report;
  } finally {
    scratch.dispose();
  }
}
