/**
 * Tests that need something outside the repository (a real server, a browser, a cluster tool) are declared through a `Suite`:
 * when the requirement is met it is bun's own test API; when it is not, every test still registers under its own name and
 * fails with the reason and how to get what is missing, and no hook runs. So a missing requirement is never a silent skip, and
 * the summary counts each test that did not run (a failing `beforeAll` would hide its tests from the report altogether).
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, test } from 'bun:test';

type Hook = (fn: () => unknown, timeout?: number) => void;

export interface Suite {
  describe: (name: string, body: () => void) => void;
  test: (name: string, fn: () => unknown, timeout?: number) => void;
  beforeAll: Hook;
  afterAll: Hook;
  beforeEach: Hook;
  afterEach: Hook;
}

/** Thrown by every test of a suite whose requirement is missing. */
export class MissingRequirement extends Error {
  override name = 'MissingRequirement';
}

export const BUN_SUITE: Suite = {
  describe: (name, body) => describe(name, body),
  test: (name, fn, timeout) => test(name, fn as () => Promise<void>, timeout),
  beforeAll: (fn, timeout) => beforeAll(fn as () => Promise<void>, timeout),
  afterAll: (fn, timeout) => afterAll(fn as () => Promise<void>, timeout),
  beforeEach: (fn, timeout) => beforeEach(fn as () => Promise<void>, timeout),
  afterEach: (fn, timeout) => afterEach(fn as () => Promise<void>, timeout),
};

function failingSuite(reason: string): Suite {
  const skipHook: Hook = () => undefined;
  return {
    describe: (name, body) => describe(name, body),
    test: (name) =>
      test(name, () => {
        throw new MissingRequirement(reason);
      }),
    beforeAll: skipHook,
    afterAll: skipHook,
    beforeEach: skipHook,
    afterEach: skipHook,
  };
}

/**
 * `describe(name)` whose body declares its tests and hooks through the suite it is given. `missing` is undefined when the
 * requirement is met, otherwise the reason with the fix (e.g. "chromium is not installed: run ...").
 */
export function describeRequiring(name: string, missing: string | undefined, body: (suite: Suite) => void): void {
  const suite = missing === undefined ? BUN_SUITE : failingSuite(missing);
  describe(name, () => body(suite));
}

/**
 * A stand-in for values a body reads while registering (server handles, say) when the requirement is missing: reading any
 * property throws the reason, which only happens inside a test (hooks do not run) and so fails that test with it.
 */
export function unavailable<T extends object>(reason: string): T {
  return new Proxy({} as T, {
    get() {
      throw new MissingRequirement(reason);
    },
  });
}
