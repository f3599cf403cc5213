/**
 * Brings every artifact the tests run up to date before the suite starts (`npm test` calls it), so no test rebuilds one inside
 * its own timeout: a rebuild takes seconds, minutes on a loaded machine, and a test that paid for it failed on time, not on
 * behaviour. Builds only what is missing or older than the sources (scripts/artifacts.ts decides).
 */
import { linuxBinary, nodeBundle, serviceBinary } from '../artifacts';

const started = performance.now();
for (const [name, build] of [
  ['dist/greeting-mesh', serviceBinary],
  ['dist/greeting-mesh-linux-*', () => linuxBinary('x64')],
  ['dist/node', nodeBundle],
] as const) {
  try {
    build();
  } catch (err) {
    console.error(`${name}: ${(err as Error).message}`);
    process.exit(1);
  }
}
const seconds = (performance.now() - started) / 1000;
if (seconds > 1) console.log(`artifacts brought up to date in ${seconds.toFixed(0)} s`);
