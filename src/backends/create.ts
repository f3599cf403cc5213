/**
 * Chooses each backend a role needs: the real server when its URL is given (MONGO_CONN, RABBITMQ_CONN), else the embedded
 * in-memory one. In-memory backends only join roles that share a process, which the local platform arranges.
 */
import type { RoleSettings } from '../config/settings';
import type { Logger } from '../telemetry/log';
import { backendNeeds, type RoleBackends } from '../role';
import { MemoryQueue } from './memory-queue';
import { MemoryStore } from './memory-store';

export function createBackends(settings: RoleSettings, log: Logger, shared?: Required<RoleBackends>): RoleBackends {
  const needs = backendNeeds(settings);
  return {
    store: needs.store ? (shared?.store ?? new MemoryStore()) : undefined,
    queue: needs.queue ? (shared?.queue ?? new MemoryQueue()) : undefined,
  };
}

export async function closeBackends(backends: RoleBackends): Promise<void> {
  await Promise.allSettled([backends.queue?.close(), backends.store?.close()]);
}
