/**
 * The API host field: the page served by one platform calls another one typed in (cross-origin, through CORS), takes that
 * platform's topology and trace UI, and says plainly when a host is wrong or unreachable.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
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

describeInBrowser('the API host field', () => {
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
    // Typed the way people do: no scheme.
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
