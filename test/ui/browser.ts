/**
 * A real browser for the UI tests: CHROMIUM_PATH, Debian's chromium, or the one `npx playwright install chromium` caches, driven
 * by playwright-core (Playwright's own browser download does not work on these machines). Without one, every UI test fails and
 * says how to install it.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { describeRequiring, type Suite } from '../support/requirements';
import { ROOT } from '../../scripts/artifacts';

export const ARTIFACTS = join(ROOT, 'test-results');
const HOW_TO_INSTALL =
  'no chromium: run `bash scripts/ci/install-browser.sh` (Debian; as root it runs apt-get install chromium, otherwise it prints the command), or set CHROMIUM_PATH, or run `npx playwright install chromium`';

function playwrightsOwn(): string | undefined {
  try {
    return chromium.executablePath();
  } catch {
    return undefined;
  }
}

/** The browser binary the tests launch, or undefined when none is installed. */
export function chromiumPath(): string | undefined {
  return [process.env.CHROMIUM_PATH, '/usr/bin/chromium', playwrightsOwn()].find((p): p is string => Boolean(p) && existsSync(p!));
}

/** `describe` with a browser; without one, each test fails with how to install it. */
export function describeInBrowser(name: string, body: (suite: Suite) => void): void {
  describeRequiring(name, chromiumPath() ? undefined : HOW_TO_INSTALL, body);
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
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
