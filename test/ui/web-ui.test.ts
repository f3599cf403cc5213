/**
 * The web UI in a real browser against the platform as eight processes of the compiled binary (processes, so Service C can be
 * killed the way a crashed pod dies). Service G answers 300 ms late (chaos latency) so "slow" has something to find.
 */
import { expect } from 'bun:test';
import type { Browser, Page } from 'playwright-core';
import { loadConfig } from '../../src/config/settings';
import { ProcessPlatform } from '../../src/platform/processes';
import { serviceBinary } from '../../scripts/artifacts';
import { artifactPath, describeInBrowser, launchBrowser } from './browser';
import { contrastFailures } from './contrast';

const ORDER = ['Service D', 'Service G', 'Service H', 'Service E', 'Service B', 'Service C', 'Service A'];
const CALLED_ROLES = ['a', 'b', 'c', 'd', 'e', 'g', 'h'];
const TRACE_UI = 'http://zipkin.test:9411';
const G_LATENCY_MS = 300;

let platform: ProcessPlatform;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

const stateOf = (node: string) => page.getAttribute(`svg [data-node="${node}"]`, 'data-state');
const nodeText = (node: string) => page.textContent(`svg [data-node="${node}"] .detail`);
const statesOf = async (nodes: string[]) => Object.fromEntries(await Promise.all(nodes.map(async (n) => [n, await stateOf(n)])));
const cardServices = () => page.$$eval('#cards > li', (cards) => cards.map((c) => c.getAttribute('data-service')));

describeInBrowser('the web UI in a real browser', ({ test, beforeAll, afterAll }) => {
  beforeAll(async () => {
    platform = new ProcessPlatform(loadConfig().config, {
      command: [serviceBinary()],
      env: { LOG_LEVEL: 'warn', DRAIN_DELAY_MS: '100', UPSTREAM_TIMEOUT_MS: '1500' },
      roleEnv: { a: { TRACE_UI_URL: TRACE_UI }, g: { CHAOS_LATENCY_MS: String(G_LATENCY_MS) } },
    });
    await platform.start();
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('pageerror', (error) => pageErrors.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      // Chromium logs every 502 it receives; with C killed that answer is the point of the test, not a fault of the page.
      const expected502 = message.location().url.endsWith('/api/greeting') && message.text().includes('502');
      if (message.type() === 'error' && !expected502) pageErrors.push(`console error: ${message.text()}`);
    });
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await platform?.stop();
  });

  test('A serves the page, which draws the call graph from /api/topology before any call', async () => {
    const response = await page.goto(`${platform.url('a')}/`);
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-type']).toBe('text/html; charset=utf-8');
    await page.waitForSelector('svg [data-node="a"]');
    expect(await page.title()).toBe('greeting-mesh');
    expect(await page.inputValue('#api')).toBe(platform.url('a'));
    const nodes = await page.$$eval('svg [data-node]', (els) => els.map((e) => e.getAttribute('data-node')));
    expect(nodes.sort()).toEqual(
      ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'queue:service-d.greeting', 'store:service-c.greetings', 'store:service-f.messages', 'store:service-g.greetings', 'store:service-h.greetings'].sort(),
    );
    expect(await statesOf(CALLED_ROLES)).toEqual(Object.fromEntries(CALLED_ROLES.map((id) => [id, 'idle'])));
    // F is fed by the queue, never by a call: the page says so instead of waiting for it to light up.
    expect(await stateOf('f')).toBe('async');
    // Callers above what they call: A on top, D above its queue, the queue above F.
    const y = async (id: string) => Number(await page.getAttribute(`svg [data-node="${id}"] .shape`, 'y'));
    expect(await y('a')).toBeLessThan(await y('b'));
    expect(await y('d')).toBeLessThan(await y('queue:service-d.greeting'));
    expect(await y('queue:service-d.greeting')).toBeLessThan(await y('f'));
  });

  test('by keyboard alone: Tab to the call button (focus visible), Enter, and the seven greetings arrive as cards', async () => {
    await page.fill('#slow', '5000');
    await page.focus('#api');
    // API host, then User (the routing header), then the call button.
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('user');
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => {
      const e = document.activeElement as HTMLElement;
      const style = getComputedStyle(e);
      return { id: e.id, outline: style.outlineStyle, width: parseFloat(style.outlineWidth) };
    });
    expect(focused).toEqual({ id: 'call', outline: 'solid', width: 3 });
    await page.keyboard.press('Enter');
    await page.waitForSelector('#cards > li:nth-child(7)');

    expect(await cardServices()).toEqual(ORDER);
    const cards = await page.$$eval('#cards > li', (els) =>
      els.map((c) => ({
        message: c.querySelector('.message')?.textContent ?? '',
        hostname: c.querySelector('.hostname')?.textContent ?? '',
        time: c.querySelector('time')?.getAttribute('datetime') ?? '',
      })),
    );
    for (const card of cards) {
      expect(card.message).toMatch(/, from Service [A-H]!$/);
      expect(card.hostname.length).toBeGreaterThan(0);
      expect(Number.isNaN(Date.parse(card.time))).toBe(false);
    }
    expect(await page.textContent('#status')).toMatch(/^200 OK · 7 greetings · /);
    expect(await statesOf(CALLED_ROLES)).toEqual(Object.fromEntries(CALLED_ROLES.map((id) => [id, 'ok'])));
    expect(await nodeText('c')).toMatch(/^ok · [\d.]+ ms$/);
    expect(await stateOf('queue:service-d.greeting')).toBe('ok');
    expect(await nodeText('store:service-c.greetings')).toBe('stored');
    expect(await stateOf('store:service-f.messages')).toBe('async');
  });

  test('the trace id of the last call links to the configured trace UI', async () => {
    const traceId = (await page.textContent('#trace-id')) ?? '';
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(await page.getAttribute('#trace-link', 'href')).toBe(`${TRACE_UI}/zipkin/traces/${traceId}`);
    expect(await page.textContent('#trace-link')).toBe('Open in Zipkin');
    expect(await page.textContent('#request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  test('lowering the slow threshold marks Service G slow by its own time, and not its callers', async () => {
    await page.fill('#slow', '150');
    expect(await stateOf('g')).toBe('slow');
    expect(await nodeText('g')).toMatch(/^slow · \d+ ms$/);
    // E, B and A wait for G too, but their own time is small: only G is to blame.
    expect(await statesOf(['a', 'b', 'e', 'h'])).toEqual({ a: 'ok', b: 'ok', e: 'ok', h: 'ok' });
    expect(await page.getAttribute('#cards > li[data-service="Service G"]', 'data-state')).toBe('slow');
  });

  test('a run of N requests shows each service\'s latency from Server-Timing', async () => {
    await page.fill('#count', '6');
    expect(await page.textContent('#run')).toBe('Run 6 requests');
    await page.click('#run');
    await page.waitForFunction(() => document.querySelector('#latency-summary')?.textContent === '6 of 6 requests done.', undefined, { timeout: 20_000 });
    const rows = await page.$$eval('#latency-table tbody tr', (trs) =>
      Object.fromEntries(trs.map((tr) => [tr.getAttribute('data-node'), [...tr.children].map((c) => c.textContent ?? '')])),
    );
    const number = (cell: string | undefined) => Number((cell ?? '').replace(' ms', ''));
    for (const id of CALLED_ROLES) {
      expect(rows[id]![1]).toBe('6');
      expect(rows[id]![2]).toBe('0');
    }
    // Server-Timing durations include the upstreams: G's chaos latency shows in G, E, B and A, not in C or D.
    for (const id of ['g', 'e', 'b', 'a']) expect(number(rows[id]![3])).toBeGreaterThanOrEqual(G_LATENCY_MS);
    for (const id of ['c', 'd', 'h']) expect(number(rows[id]![3])).toBeLessThan(G_LATENCY_MS);
    expect(rows.f![0]).toContain('async');
    expect(rows.browser![1]).toBe('6');
    expect(await page.textContent('#run')).toBe('Run 6 requests');
    expect(await page.isEnabled('#call')).toBe(true);
  }, 30_000);

  test('with Service C killed, C\'s node turns failed, its collection is not reached, and the page says why', async () => {
    await platform.kill('c');
    await page.click('#call');
    await page.waitForSelector('#status[data-state="failed"]');

    expect(await stateOf('c')).toBe('failed');
    expect(await nodeText('c')).toBe('failed');
    expect(await stateOf('store:service-c.greetings')).toBe('unreached');
    expect(await nodeText('store:service-c.greetings')).toBe('not reached');
    expect(await statesOf(['a', 'b', 'd', 'e', 'h'])).toEqual({ a: 'ok', b: 'ok', d: 'ok', e: 'ok', h: 'ok' });

    const status = (await page.textContent('#status')) ?? '';
    expect(status).toMatch(/^502 Bad Gateway · 6 greetings · .*Failed: Service C: request failed: /);
    const why = await page.textContent('#roles-table tr[data-node="c"] .detail');
    expect(why).toMatch(/^request failed: /);
    const card = page.locator('#cards > li[data-service="Service C"]');
    expect(await card.getAttribute('data-state')).toBe('failed');
    expect(await card.locator('.reason').textContent()).toMatch(/^request failed: /);
    expect(await card.locator('dd').textContent()).toBe(platform.url('c'));
    expect(await cardServices()).toEqual(ORDER);
    await page.screenshot({ path: artifactPath('web-ui-service-c-down.png'), fullPage: true });
  });

  test('all text keeps WCAG AA contrast, in every state on the page (ok, slow, failed, not reached, async)', async () => {
    expect(await stateOf('g')).toBe('slow');
    expect(await contrastFailures(page)).toEqual([]);
  });

  test('on a narrow screen the page does not scroll sideways (only the drawing does, inside its own box)', async () => {
    await page.setViewportSize({ width: 360, height: 780 });
    const widths = await page.evaluate(() => ({ page: document.documentElement.scrollWidth, viewport: window.innerWidth }));
    expect(widths.page).toBeLessThanOrEqual(widths.viewport);
    // The drawing's box is focusable, so a keyboard can scroll it.
    expect(await page.getAttribute('.graph-scroll', 'tabindex')).toBe('0');
    await page.screenshot({ path: artifactPath('web-ui-narrow.png'), fullPage: true });
  });

  test('the page raised no script error and nothing it loaded failed (beyond the 502 of the test above)', () => {
    expect(pageErrors).toEqual([]);
  });
});
