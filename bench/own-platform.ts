/**
 * The subjects the bench starts itself, both as one process per role on free ports (ProcessPlatform, the env a pod gets):
 * - the platform: the artifact under test, on the scenario's data plane, tracing and transport;
 * - the bare chain: bench/fixtures/bare-chain.ts compiled now as build:binary compiles the service, the same topology with nothing but
 *   Bun.serve and fetch, as the floor the platform's CPU per request is compared with.
 */
import { join } from 'node:path';
import { backendNeeds, edgeRole } from '../src/config/facts';
import type { PlatformConfig } from '../src/config/schema';
import { ProcessPlatform } from '../src/platform/processes';
import { commandFor } from './artifacts';
import { startDataPlane, type DataPlane } from './backends';
import { compile, scratchDir } from './compile';
import type { PlatformScenario } from './options';
import { cpuSeconds } from './proc-stats';
import type { Subject, TracingOutcome } from './subject';
import { startCollector, type Collector } from './zipkin-collector';

const BARE_CHAIN = join(import.meta.dir, 'fixtures', 'bare-chain.ts');

function subjectOf(
  config: PlatformConfig,
  platform: ProcessPlatform,
  unexpected: string[],
  extra: Partial<Subject>,
  release: () => Promise<void>,
  collector?: Collector,
): Subject {
  return {
    edgeUrl: platform.url(edgeRole(config)),
    processes: new Map([...platform.roles].map(([id, role]) => [id, role.child.pid!])),
    withDrivers: new Set(),
    backends: 'none',
    traced: collector !== undefined,
    unexpectedExits: () => [...unexpected],
    ...extra,
    stop: async () => {
      let tracing: TracingOutcome | undefined;
      try {
        await platform.stop();
        if (collector) {
          // Exporters batch spans (and flush on shutdown): wait until nothing new arrives.
          const spans = await collector.settle(1500, 15_000);
          tracing = { ...spans, collectorCpuSeconds: Math.round((cpuSeconds(collector.pid) ?? NaN) * 100) / 100 };
        }
      } finally {
        await collector?.stop();
        await release();
      }
      return tracing;
    },
  };
}

export async function startOwnPlatform(config: PlatformConfig, scenario: PlatformScenario, progress: (msg: string) => void): Promise<Subject> {
  const command = commandFor(scenario.artifact);
  const dataPlane: DataPlane = await startDataPlane(scenario.backends);
  let collector: Collector | undefined;
  let platform: ProcessPlatform | undefined;
  const unexpected: string[] = [];
  try {
    if (scenario.tracing === 'on') collector = await startCollector();
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
  } catch (err) {
    await platform?.stop();
    await collector?.stop();
    await dataPlane.stop();
    throw err;
  }
  const ids = Object.keys(config.services);
  const publisher = ids.find((id) => config.services[id]!.publish);
  const consumer = ids.find((id) => config.services[id]!.consume);
  const started = platform;
  return subjectOf(
    config,
    started,
    unexpected,
    {
      withDrivers: new Set(dataPlane.real ? ids.filter((id) => Object.values(backendNeeds(config.services[id]!)).some(Boolean)) : []),
      backends: dataPlane.flavour,
      dataPlane:
        dataPlane.real && dataPlane.env.MONGO_CONN
          ? {
              mongoUrl: dataPlane.env.MONGO_CONN,
              publisherUrl: publisher ? started.url(publisher) : undefined,
              consumerUrl: consumer ? started.url(consumer) : undefined,
              env: dataPlane.env,
            }
          : undefined,
    },
    () => dataPlane.stop(),
    collector,
  );
}

export async function startBareChain(config: PlatformConfig, progress: (msg: string) => void): Promise<Subject> {
  const scratch = scratchDir();
  const binary = join(scratch.path, 'bare-chain');
  progress('compiling the bare Bun chain as build:binary compiles the service');
  compile(BARE_CHAIN, binary);
  const unexpected: string[] = [];
  const platform = new ProcessPlatform(config, { command: [binary], onUnexpectedExit: (id, how) => unexpected.push(`${id} exited (${how})`), transport: 'http' });
  progress('starting eight bare processes');
  try {
    await platform.start(60_000);
  } catch (err) {
    await platform.stop();
    scratch.dispose();
    throw err;
  }
  return subjectOf(config, platform, unexpected, { backends: 'none (the bare chain stores and publishes nothing)' }, async () => scratch.dispose());
}
