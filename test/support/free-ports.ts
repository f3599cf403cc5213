/**
 * The shipped config with every role (and every extra version) on a free port, written to a temporary file, so a test that
 * runs `npm start` never meets another platform, or the developer's own.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../src/platform/processes';
import { ROOT } from '../../scripts/artifacts';

export async function configWithFreePorts(): Promise<{ path: string; ports: Record<string, number> }> {
  const raw = JSON.parse(readFileSync(join(ROOT, 'config', 'services.json'), 'utf8'));
  const ports: Record<string, number> = {};
  for (const id of Object.keys(raw.services)) {
    raw.services[id].port = ports[id] = await freePort();
    // npm start runs the extra versions too: theirs must be free as well, not derived from a random one.
    for (const v of Object.keys(raw.services[id].versions ?? {})) raw.services[id].versions[v].port = ports[`${id}-${v}`] = await freePort();
  }
  const path = join(mkdtempSync(join(tmpdir(), 'gm-free-ports-')), `services-${Object.values(ports)[0]}.json`);
  writeFileSync(path, JSON.stringify(raw));
  return { path, ports };
}

