/**
 * Chooses each backend a role needs: the real server when its URL is given (MONGO_CONN, RABBITMQ_CONN), else the embedded
 * in-memory one. In-memory backends only join roles that share a process, which the local platform arranges.
 */
import type { RoleSettings } from '../config/settings';
import type { Logger } from '../telemetry/log';
import { backendNeeds, type RoleBackends } from '../role';
import { MemoryQueue } from './memory-queue';
import { MemoryStore } from './memory-store';
import { MongoStore } from './mongo-store';
import { RabbitQueue } from './rabbit-queue';

export function createBackends(settings: RoleSettings, log: Logger, shared?: Required<RoleBackends>): RoleBackends {
  const needs = backendNeeds(settings);
  const logTo = (level: 'info' | 'warn' | 'error', message: string) => log[level](message);
  const targets = [settings.store, settings.consume?.store].filter((t) => t !== undefined);
  const store = !needs.store
    ? undefined
    : settings.mongoUrl
      ? new MongoStore(settings.mongoUrl, { targets, log: logTo })
      : (shared?.store ?? new MemoryStore());
  const queue = !needs.queue
    ? undefined
    : settings.rabbitmqUrl
      ? new RabbitQueue(settings.rabbitmqUrl, { log: logTo })
      : (shared?.queue ?? new MemoryQueue());
  return { store, queue };
}

export async function closeBackends(backends: RoleBackends): Promise<void> {
  await Promise.allSettled([backends.queue?.close(), backends.store?.close()]);
}
