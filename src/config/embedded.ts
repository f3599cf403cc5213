/**
 * The config compiled into the binary, checked when the code is bundled instead of at every start. settings.ts imports
 * checkedEmbeddedConfig as a Bun macro: `bun build`, and Bun's transpiler for `bun src/...` and the tests, run it and put its
 * result into the code as a literal, so a start does not validate the embedded file again (about 3 ms of TypeBox on cold
 * code, a tenth of a role's start). An invalid file does not fail the build: its problems travel in the result and
 * loadConfig throws them at start, so the service exits 78 naming them, as for any config. Bun re-runs the macro whenever it
 * transpiles settings.ts, which it does on every `bun src/...` run (its transpiler cache only keeps files over 50 KB), so an
 * edit of config/services.json is seen at once. The Node bundle calls it at start instead (tsup.config.ts).
 */
import embedded from '../../config/services.json';
import type { PlatformConfig } from './schema';
import { ConfigError, type ConfigProblem } from './config-error';
import { EMBEDDED_CONFIG_NAME } from './embedded-name';
import { validateConfig } from './validate';

export type CheckedConfig = { config: PlatformConfig; problems?: undefined } | { problems: ConfigProblem[] };

export function checkedEmbeddedConfig(): CheckedConfig {
  try {
    return { config: validateConfig(embedded, EMBEDDED_CONFIG_NAME) };
  } catch (err) {
    if (err instanceof ConfigError) return { problems: err.problems };
    throw err;
  }
}
