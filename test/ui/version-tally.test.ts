/**
 * The UI's version tally, in a real browser, from real answers: the platform as processes of the compiled binary with every
 * version running (H v1 and H v2 side by side), and E calling H through a small proxy this test starts on loopback. The proxy
 * is a test fixture standing in for the mesh's routing, which the local platform does not imitate: four calls in five to
 * H v1 and the fifth to H v2 (a canary's 80/20, exactly), and every call carrying `end-user: jason` to H v2 (a dark launch).
 * What the page counts is the `version` of each greeting it got back.
 */
import { expect } from 'bun:test';
import type { Browser, Page } from 'playwright-core';
import { loadConfig } from '../../src/config/settings';
import { ProcessPlatform } from '../../src/platform/processes';
import { ROUTING_HEADER } from '../../src/serving/routing-headers';
import { serviceBinary } from '../../scripts/artifacts';
import { describeInBrowser, launchBrowser } from './browser';

let platform: ProcessPlatform;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];
const routed = { v1: 0, v2: 0 };
let calls = 0;

/** The mesh's stand-in: 80/20 by count, and a header match for the dark launch. */
const mesh = Bun.serve({
  hostname: '127.0.0.1',
  port: 0,
  async fetch(request) {
    const jason = request.headers.get(ROUTING_HEADER) === 'jason';
    const version = jason || calls++ % 5 === 4 ? 'v2' : 'v1';
    routed[version]++;
    const url = new URL(request.url);
    const answer = await fetch(`${platform.versionUrl('h', version)}${url.pathname}${url.search}`, { headers: request.headers });
    return new Response(await answer.arrayBuffer(), { status: answer.status, headers: answer.headers });
  },
});

/** The tally's row for a role: each version's count. */
async function tallyOf(node: string): Promise<Record<string, number>> {
  return page.$$eval(`#versions-table tr[data-node="${node}"] .tally`, (spans) =>
    Object.fromEntries(spans.map((s) => [s.getAttribute('data-version'), Number(s.getAttribute('data-count'))])),
  );
}

async function run(count: number) {
  await page.fill('#count', String(count));
  await page.click('#run');
  await page.waitForFunction((n) => document.querySelector('#versions-summary')?.textContent?.startsWith(`${n} of ${n} requests done.`), count, { timeout: 30_000 });
}

describeInBrowser('the version tally of a run, in a real browser', ({ test, beforeAll, afterAll }) => {
  beforeAll(async () => {
    platform = new ProcessPlatform(loadConfig().config, {
      command: [serviceBinary()],
      versions: true,
      env: { LOG_LEVEL: 'warn', DRAIN_DELAY_MS: '0' },
      roleEnv: { e: { SERVICE_H_URL: `http://127.0.0.1:${mesh.port}` } },
    });
    await platform.start();
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('pageerror', (error) => pageErrors.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') pageErrors.push(`console error: ${message.text()}`);
    });
    await page.goto(`${platform.url('a')}/`);
    await page.waitForSelector('svg [data-node="h"]');
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await platform?.stop();
    mesh.stop(true);
  });

  test('a single call shows on each card the version that answered', async () => {
    calls = 0;
    await page.click('#call');
    await page.waitForSelector('#cards > li:nth-child(7)');
    const versions = await page.$$eval('#cards > li', (cards) => cards.map((c) => [c.getAttribute('data-service'), c.querySelector('.version')?.textContent]));
    expect(Object.fromEntries(versions)).toMatchObject({ 'Service H': 'v1', 'Service E': 'v1', 'Service A': 'v1' });
  });

  test('a run of 20 through an 80/20 split counts 16 answers from H v1 and 4 from H v2, and one version everywhere else', async () => {
    calls = 0;
    routed.v1 = routed.v2 = 0;
    await run(20);
    expect(routed).toEqual({ v1: 16, v2: 4 });
    expect(await tallyOf('h')).toEqual({ v1: 16, v2: 4 });
    // E v2 runs, but nothing routes to it: its declared version shows at zero.
    expect(await tallyOf('e')).toEqual({ v1: 20, v2: 0 });
    expect(await tallyOf('a')).toEqual({ v1: 20 });
    expect(await page.textContent('#versions-table tr[data-node="h"] td.num')).toBe('0');
    expect(await page.textContent('#versions-table tr[data-node="h"] .tally[data-version="v2"]')).toBe('v2: 4 (20%)');
    expect(await page.textContent('#versions-summary')).toBe('20 of 20 requests done. Answered by more than one version: Service H.');
  });

  test('with the User field set, the header reaches H\'s route three hops down: a dark launch answers v2 every time', async () => {
    await page.fill('#user', 'jason');
    routed.v1 = routed.v2 = 0;
    await run(5);
    expect(routed).toEqual({ v1: 0, v2: 5 });
    expect(await tallyOf('h')).toEqual({ v1: 0, v2: 5 });
    await page.fill('#user', '');
  });

  test('a User value no hop would forward is refused in the page, before any call', async () => {
    await page.fill('#user', 'j\u00e4son');
    const before = routed.v1 + routed.v2;
    await page.click('#call');
    expect(await page.getAttribute('#user', 'aria-invalid')).toBe('true');
    expect(await page.textContent('#user-error')).toContain('printable ASCII');
    expect(routed.v1 + routed.v2).toBe(before);
    await page.fill('#user', '');
  });

  test('nothing went wrong in the page', () => {
    expect(pageErrors).toEqual([]);
  });
});
