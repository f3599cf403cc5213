/**
 * A real browser for the UI tests: Debian's chromium driven by playwright-core (Playwright's own browser download does not work
 * on these machines). Without chromium the tests skip with a note on a developer's machine, and fail under CI, saying how to install it.
 */
import { describe, test } from 'bun:test';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { ROOT } from '../support/service-binary';

export const CHROMIUM = '/usr/bin/chromium';
export const ARTIFACTS = join(ROOT, 'test-results');
const HOW_TO_INSTALL = `chromium is not installed at ${CHROMIUM}: run \`bash scripts/ci/install-browser.sh\` (as root; it runs apt-get install -y chromium)`;

const inCi = () => Boolean(process.env.CI) && process.env.CI !== 'false' && process.env.CI !== '0';

/** `describe`, when a browser can run; otherwise a skip with a note, or, under CI, one failing test that says how to install it. */
export function describeInBrowser(name: string, body: () => void): void {
  if (existsSync(CHROMIUM)) return describe(name, body);
  if (inCi()) {
    describe(name, () => {
      test('chromium is installed', () => {
        throw new Error(HOW_TO_INSTALL);
      });
    });
    return;
  }
  console.warn(`skipping "${name}": ${HOW_TO_INSTALL}`);
  describe.skip(name, body);
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    // No sandbox: tests run as root in CI containers, where chromium's sandbox cannot start. The rest keeps the browser from
    // reaching for the network (updates, sync, QUIC probes) on machines that have none.
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** Where a screenshot goes: test-results/ (gitignored), created on demand. */
export function artifactPath(name: string): string {
  mkdirSync(ARTIFACTS, { recursive: true });
  return join(ARTIFACTS, name);
}
