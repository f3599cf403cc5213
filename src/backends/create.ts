/**
 * Chooses each backend a role needs: the real server when its URL is given (MONGO_CONN, RABBITMQ_CONN), else the embedded
 * in-memory one. In-memory backends only join roles that share a process, which the local platform arranges.
 */
import { backendNeeds, storeTargets } from '../config/facts';
import type { RoleSettings } from '../config/settings';
import { MemoryQueue } from './memory-queue';
import { MemoryStore } from './memory-store';
import type * as MongoModule from './mongo-store';
import type * as RabbitModule from './rabbitmq/queue';
import type { BackendLog, RoleBackends } from './types';

// The drivers load only in a role that uses them: importing mongodb and amqplib costs every other role about 10 MB of memory
// and tens of milliseconds of start-up. `require` keeps this synchronous; Bun and the Node bundle both resolve it to the
// module bundled with them.
const mongoModule = () => require('./mongo-store') as typeof MongoModule;
const rabbitModule = () => require('./rabbitmq/queue') as typeof RabbitModule;

export function createBackends(settings: RoleSettings, log: BackendLog, shared?: Required<RoleBackends>): RoleBackends {
  const needs = backendNeeds(settings);
  let store: RoleBackends['store'];
  if (needs.store && settings.mongoUrl) store = new (mongoModule().MongoStore)(settings.mongoUrl, { targets: storeTargets(settings), log });
  else if (needs.store) store = shared?.store ?? new MemoryStore();
  let queue: RoleBackends['queue'];
  if (needs.queue && settings.rabbitmqUrl) queue = new (rabbitModule().RabbitQueue)(settings.rabbitmqUrl, { log });
  else if (needs.queue) queue = shared?.queue ?? new MemoryQueue(settings.memoryQueueLimit);
  return { store, queue };
}

export async function closeBackends(backends: RoleBackends): Promise<void> {
  await Promise.allSettled([backends.queue?.close(), backends.store?.close()]);
}
