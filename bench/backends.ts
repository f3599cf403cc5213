/**
 * The data plane a scenario runs on, as the env its roles get. memory: none (each process keeps its own in-memory store and
 * queue, so D's messages never reach F); url: the servers MONGO_CONN and RABBITMQ_CONN name; local: servers the test harness
 * (test/support/backends.ts) finds or starts on this machine (a Docker engine's containers, else rabbitmq-server and FerretDB
 * installed by scripts/ci/install-backends.sh), stopped again once the last scenario using them is done: scenarios run side by
 * side (rounds alternate between them), and the harness keeps one server of each kind per process.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../scripts/artifacts';
import type { Backends } from './options';

export interface DataPlane {
  env: Record<string, string>;
  /** True when D and F share a real queue and store, so published = stored can be checked. */
  real: boolean;
  /** What serves the data plane, for the report ('ferretdb 1.24.2 (sqlite)', 'MONGO_CONN', ...). */
  flavour: string;
  stop(): Promise<void>;
}

const HARNESS = join(ROOT, 'test', 'support', 'backends.ts');

const shared = new Map<Backends, { plane: Promise<DataPlane>; users: number }>();

/** The data plane of this kind, started on first use and stopped when its last user stops it. */
export function startDataPlane(kind: Backends): Promise<DataPlane> {
  let entry = shared.get(kind);
  if (!entry) {
    entry = { plane: open(kind), users: 0 };
    shared.set(kind, entry);
    entry.plane.catch(() => shared.delete(kind));
  }
  const current = entry;
  current.users++;
  let released = false;
  return current.plane.then((plane) => ({
    ...plane,
    stop: async () => {
      if (released) return;
      released = true;
      if (--current.users > 0) return;
      shared.delete(kind);
      await plane.stop();
    },
  }));
}

async function open(kind: Backends): Promise<DataPlane> {
  if (kind === 'memory') return { env: {}, real: false, flavour: 'in-memory, per process', stop: async () => {} };
  if (kind === 'url') {
    const mongo = process.env.MONGO_CONN;
    const rabbit = process.env.RABBITMQ_CONN;
    if (!mongo || !rabbit) {
      throw new Error('--backends url needs MONGO_CONN (mongodb://...) and RABBITMQ_CONN (amqp://...) in the environment');
    }
    return { env: { MONGO_CONN: mongo, RABBITMQ_CONN: rabbit }, real: true, flavour: 'MONGO_CONN, RABBITMQ_CONN', stop: async () => {} };
  }
  if (!existsSync(HARNESS)) throw new Error(`--backends local needs the data-plane harness ${HARNESS}`);
  // Imported only here: it loads the MongoDB and AMQP drivers, which the other scenarios do not need.
  const harness = (await import(HARNESS)) as typeof import('../test/support/backends');
  const [mongo, rabbit] = await Promise.all([harness.findMongo('use'), harness.findRabbit('use')]);
  const problems = [mongo, rabbit].flatMap((found) => (found.ok ? [] : [found.reason]));
  if (!mongo.ok || !rabbit.ok) {
    await harness.disposeAll();
    throw new Error(`--backends local: ${problems.join('; ')}`);
  }
  return {
    env: { MONGO_CONN: mongo.handle.url, RABBITMQ_CONN: rabbit.handle.url },
    real: true,
    flavour: `${mongo.handle.flavour} + ${rabbit.handle.flavour}`,
    stop: () => harness.disposeAll(),
  };
}
