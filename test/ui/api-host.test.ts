/**
 * The API host field: the page served by one platform calls another one typed in (cross-origin, through CORS), takes that
 * platform's topology and trace UI, and says plainly when a host is wrong or unreachable.
 */
import { expect } from 'bun:test';
import type { Browser, Page } from 'playwright-core';
import { readEnv } from '../../src/config/env';
import { loadConfig } from '../../src/config/settings';
import { startInProcess, type InProcessPlatform } from '../../src/platform/in-process';
import { freePort } from '../../src/platform/processes';
import { describeInBrowser, launchBrowser } from './browser';

const JAEGER = 'http://jaeger.test:16686';

let home: InProcessPlatform;
let other: InProcessPlatform;
let browser: Browser;
let page: Page;

describeInBrowser('the API host field', ({ test, beforeAll, afterAll }) => {
  beforeAll(async () => {
    const config = loadConfig().config;
    home = await startInProcess(config, { ephemeralPorts: true, env: readEnv({ LOG_LEVEL: 'warn', DRAIN_DELAY_MS: '0' }) });
    other = await startInProcess(config, { ephemeralPorts: true, env: readEnv({ LOG_LEVEL: 'warn', DRAIN_DELAY_MS: '0', TRACE_UI_URL: JAEGER }) });
    browser = await launchBrowser();
    page = await browser.newPage();
    await page.goto(`${home.url('a')}/`);
    await page.waitForSelector('svg [data-node="a"]');
  }, 30_000);

  afterAll(async () => {
    await browser?.close();
    await home?.stop();
    await other?.stop();
  });

  test('without a trace UI configured, the trace id shows and no link does', async () => {
    await page.click('#call');
    await page.waitForSelector('#cards > li:nth-child(7)');
    expect(await page.textContent('#trace-id')).toMatch(/^[0-9a-f]{32}$/);
    expect(await page.$('#trace-link')).toBeNull();
  });

  test('another host typed in is called across origins, and its Jaeger UI is linked', async () => {
    await page.fill('#api', other.url('a').replace('http://', ''));
    await page.press('#api', 'Enter');
    await page.waitForSelector('#trace-link');
    expect(await page.textContent('#status')).toMatch(/^200 OK · 7 greetings/);
    const traceId = await page.textContent('#trace-id');
    expect(await page.getAttribute('#trace-link', 'href')).toBe(`${JAEGER}/trace/${traceId}`);
    expect(await page.textContent('#trace-link')).toBe('Open in Jaeger');
    // The choice is kept in the address, so the view can be shared or reloaded.
    expect(new URL(page.url()).searchParams.get('api')).toBe(other.url('a'));
    await page.reload();
    expect(await page.inputValue('#api')).toBe(other.url('a'));
  });

  test('switching hosts never shows a trace link to a trace id that call did not send to that host, also on a slow CPU', async () => {
    // Which host each trace id was sent to, as the browser sent it.
    const sentTo = new Map<string, string>();
    page.on('request', (request) => {
      const traceId = request.headers()['x-b3-traceid'];
      if (request.method() === 'GET' && traceId && request.url().endsWith('/api/greeting')) sentTo.set(traceId, new URL(request.url()).origin);
    });
    // A slow CPU and a slow answer from the new host widen the moment between "the new host's topology is in" and "the new
    // call's answer is in", where a page that renders the old call with the new topology links the wrong trace.
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: 6 });
    await page.route(`${other.url('a')}/api/greeting`, async (route) => {
      await Bun.sleep(400);
      await route.continue();
    });
    try {
      for (const [from, to] of [
        [home, other],
        [other, home],
        [home, other],
      ] as const) {
        await page.goto(`${home.url('a')}/?api=${encodeURIComponent(from.url('a'))}`);
        await page.waitForSelector('svg [data-node="a"]');
        await page.click('#call');
        await page.waitForSelector('#cards > li:nth-child(7)');
        // Every state of the link from here on, recorded by the page itself at each change.
        await page.evaluate(() => {
          const seen: { href: string; shownId: string }[] = [];
          (window as unknown as { seenLinks: typeof seen }).seenLinks = seen;
          new MutationObserver(() => {
            const link = document.getElementById('trace-link') as HTMLAnchorElement | null;
            if (link) seen.push({ href: link.href, shownId: document.getElementById('trace-id')!.textContent ?? '' });
          }).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
        });
        const answered = page.waitForResponse((r) => r.request().method() === 'GET' && r.url() === `${to.url('a')}/api/greeting`);
        await page.fill('#api', to.url('a'));
        await page.press('#api', 'Enter');
        await answered;
        // The call button is enabled again once the answer is drawn.
        await page.waitForFunction(() => !(document.getElementById('call') as HTMLButtonElement).disabled);
        const seen = await page.evaluate(() => (window as unknown as { seenLinks: { href: string; shownId: string }[] }).seenLinks);
        for (const { href, shownId } of seen) {
          const linked = href.slice(`${JAEGER}/trace/`.length);
          expect(href).toStartWith(`${JAEGER}/trace/`);
          expect(linked).toBe(shownId);
          // Only the host with the Jaeger UI (other) records traces there.
          expect(sentTo.get(linked)).toBe(other.url('a'));
        }
        if (to === other) expect(seen.length).toBeGreaterThan(0);
      }
    } finally {
      await page.unroute(`${other.url('a')}/api/greeting`);
      await cdp.send('Emulation.setCPUThrottlingRate', { rate: 1 });
    }
  }, 60_000);

  test('a host that is not http(s) is refused at the field, with the reason next to it', async () => {
    await page.fill('#api', 'ftp://example.test');
    await page.press('#api', 'Enter');
    expect(await page.getAttribute('#api', 'aria-invalid')).toBe('true');
    expect(await page.isVisible('#api-error')).toBe(true);
    expect(await page.textContent('#api-error')).toBe('The API host must be an http:// or https:// URL.');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('api');
  });

  test('an unreachable host: the status says the call could not reach it', async () => {
    const nobody = `http://127.0.0.1:${await freePort()}`;
    await page.fill('#api', nobody);
    await page.press('#api', 'Enter');
    await page.waitForSelector('#status[data-state="failed"]');
    expect(await page.getAttribute('#api', 'aria-invalid')).toBeNull();
    expect(await page.textContent('#status')).toStartWith(`Failed: could not reach ${nobody}`);
    expect(await page.textContent('#graph-message')).toStartWith('No call graph:');
    expect(await page.$$('#cards > li')).toHaveLength(0);
  });
});
