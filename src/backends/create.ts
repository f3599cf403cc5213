/**
 * Chooses each backend a role needs: the real server when its URL is given (MONGO_CONN, RABBITMQ_CONN), else the embedded
 * in-memory one. In-memory backends only join roles that share a process, which the local platform arranges.
 */
import type { RoleSettings } from '../config/settings';
import type { Logger } from '../telemetry/log';
import type { RoleBackends } from '../role';
import { MemoryQueue } from './memory-queue';
import { MemoryStore } from './memory-store';
import type * as MongoModule from './mongo-store';
import type * as RabbitModule from './rabbit-queue';

// The drivers load only in a role that uses them: importing mongodb and amqplib costs every other role about 10 MB of memory
// and tens of milliseconds of start-up. `require` keeps this synchronous; Bun and the Node bundle both resolve it to the
// module bundled with them.
const mongoModule = () => require('./mongo-store') as typeof MongoModule;
const rabbitModule = () => require('./rabbit-queue') as typeof RabbitModule;

/** Which backends a role needs; only those are created. */
export function backendNeeds(settings: RoleSettings): { store: boolean; queue: boolean } {
  return { store: Boolean(settings.store || settings.consume), queue: Boolean(settings.publish || settings.consume) };
}

export function createBackends(settings: RoleSettings, log: Logger, shared?: Required<RoleBackends>): RoleBackends {
  const needs = backendNeeds(settings);
  const logTo = (level: 'info' | 'warn' | 'error', message: string) => log[level](message);
  const targets = [settings.store, settings.consume?.store].filter((t) => t !== undefined);
  let store: RoleBackends['store'];
  if (needs.store && settings.mongoUrl) store = new (mongoModule().MongoStore)(settings.mongoUrl, { targets, log: logTo });
  else if (needs.store) store = shared?.store ?? new MemoryStore();
  let queue: RoleBackends['queue'];
  if (needs.queue && settings.rabbitmqUrl) queue = new (rabbitModule().RabbitQueue)(settings.rabbitmqUrl, { log: logTo });
  else if (needs.queue) queue = shared?.queue ?? new MemoryQueue(settings.memoryQueueLimit);
  return { store, queue };
}

export async function closeBackends(backends: RoleBackends): Promise<void> {
  await Promise.allSettled([backends.queue?.close(), backends.store?.close()]);
}
