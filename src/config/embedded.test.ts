/**
 * The embedded config is checked when the code is bundled (a Bun macro): what a start gets is exactly what validating the
 * file at start gave, and a broken file still stops the service with its problems, not the build.
 */
import { describe, expect, test } from 'bun:test';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { scratchDir } from '../../bench/compile';
import { EMBEDDED_CONFIG_NAME, loadConfig } from './settings';
import { validateConfig } from './validate';

const ROOT = join(import.meta.dir, '..', '..');
const CONFIG = join(ROOT, 'config', 'services.json');

describe('the embedded config', () => {
  test('is what validating config/services.json at start gives, defaults filled in', () => {
    const { config, file } = loadConfig();
    expect(file).toBe(EMBEDDED_CONFIG_NAME);
    expect(config).toEqual(validateConfig(JSON.parse(readFileSync(CONFIG, 'utf8')), EMBEDDED_CONFIG_NAME));
  });

  test('is a literal in the bundle: the bundled code neither reads nor validates the file', async () => {
    const built = await Bun.build({ entrypoints: [join(import.meta.dir, 'settings.ts')], target: 'bun', format: 'esm' });
    const code = await built.outputs[0]!.text();
    expect(code).not.toContain('checkedEmbeddedConfig');
    expect(code).toContain(JSON.stringify(loadConfig().config.services.a!.greeting));
  });

  test('a broken file stops the service at start with its problems (exit 78), the build still succeeds', () => {
    const scratch = scratchDir();
    try {
      cpSync(join(ROOT, 'src'), join(scratch.path, 'src'), { recursive: true });
      mkdirSync(join(scratch.path, 'config'));
      const broken = JSON.parse(readFileSync(CONFIG, 'utf8'));
      broken.services.b.port = 'eighty';
      writeFileSync(join(scratch.path, 'config', 'services.json'), JSON.stringify(broken));
      const run = spawnSync(process.execPath, [join(scratch.path, 'src', 'service.ts')], { env: { ...process.env, ROLE: 'b' }, encoding: 'utf8' });
      expect(run.status).toBe(78);
      expect(run.stderr).toContain(`${EMBEDDED_CONFIG_NAME} /services/b/port`);
    } finally {
      scratch.dispose();
    }
  });
});
