/** Builds one role from the real config, with its upstream URLs pointed wherever the test says, and returns its handler. */
import { readEnv } from '../../src/config/env';
import type { PlatformConfig } from '../../src/config/schema';
import { loadConfig, resolveRole } from '../../src/config/settings';
import { createBackends } from '../../src/backends/create';
import type { RoleBackends } from '../../src/backends/types';
import { buildRole } from '../../src/role';
import { createLogger } from '../../src/telemetry/log';
import type { UpstreamTransport } from '../../src/transport/upstream';

export function roleUnderTest(
  id: string,
  env: Record<string, string> = {},
  options: { config?: PlatformConfig; backends?: RoleBackends; logLines?: string[]; transport?: UpstreamTransport } = {},
) {
  const config = options.config ?? loadConfig().config;
  const settings = resolveRole(config, id, readEnv({ ROLE: id, ...env }));
  const lines = options.logLines ?? [];
  const log = createLogger(id, settings.logLevel, (line) => lines.push(line));
  const role = buildRole(settings, config, options.backends ?? createBackends(settings, log), { log, transport: options.transport });
  role.lifecycle.phase = 'serving';
  const get = (path: string, init?: RequestInit) => role.handle(new Request(`http://localhost${path}`, init));
  return { ...role, settings, get, lines };
}
