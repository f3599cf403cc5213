/**
 * The original Angular UI keeps working against our Service A. It is served from another origin and asks, through Angular's
 * HttpClient (XMLHttpRequest), for `<apiURL>/api/greeting` with `Content-Type: application/json`: a non-simple request, so the
 * browser sends a CORS preflight first. Then it iterates the answer as a bare array.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import type { Browser } from 'playwright-core';
import { readEnv } from '../../src/config/env';
import { loadConfig } from '../../src/config/settings';
import { startInProcess, type InProcessPlatform } from '../../src/platform/in-process';
import { describeInBrowser, launchBrowser } from './browser';

const ORDER = ['Service D', 'Service G', 'Service H', 'Service E', 'Service B', 'Service C', 'Service A'];
const UI_ORIGIN = 'http://observe-ui.example-api.com';

let platform: InProcessPlatform;
let api: string;

beforeAll(async () => {
  platform = await startInProcess(loadConfig().config, { ephemeralPorts: true, env: readEnv({ LOG_LEVEL: 'warn', DRAIN_DELAY_MS: '0' }) });
  api = platform.url('a');
});

afterAll(async () => {
  await platform?.stop();
});

const headerList = (value: string | null) => (value ?? '').split(',').map((v) => v.trim().toLowerCase());

/** OPTIONS requests A has answered on /api/greeting, from its own metrics. */
async function preflightsSeen(): Promise<number> {
  const text = await (await fetch(`${api}/api/metrics`)).text();
  return text
    .split('\n')
    .filter((line) => line.startsWith('http_server_requests_total{') && line.includes('method="OPTIONS"') && line.includes('route="/api/greeting"'))
    .reduce((sum, line) => sum + Number(line.split(' ').pop()), 0);
}

describe('the original UI\'s request, played by hand', () => {
  test('the preflight allows GET with a Content-Type header from another origin', async () => {
    const response = await fetch(`${api}/api/greeting`, {
      method: 'OPTIONS',
      headers: { origin: UI_ORIGIN, 'access-control-request-method': 'GET', 'access-control-request-headers': 'content-type' },
    });
    expect(response.status).toBeGreaterThanOrEqual(200);
    expect(response.status).toBeLessThan(300);
    expect([UI_ORIGIN, '*']).toContain(response.headers.get('access-control-allow-origin')!);
    expect(headerList(response.headers.get('access-control-allow-methods'))).toContain('get');
    expect(headerList(response.headers.get('access-control-allow-headers'))).toContain('content-type');
    expect(await response.text()).toBe('');
  });

  test('the GET with Content-Type: application/json answers a bare array of seven greetings, readable cross-origin', async () => {
    const response = await fetch(`${api}/api/greeting`, { headers: { origin: UI_ORIGIN, 'content-type': 'application/json' } });
    expect(response.status).toBe(200);
    expect([UI_ORIGIN, '*']).toContain(response.headers.get('access-control-allow-origin')!);
    expect(response.headers.get('content-type')).toStartWith('application/json');
    expect(headerList(response.headers.get('access-control-expose-headers'))).toContain('server-timing');
    const body = (await response.json()) as Record<string, unknown>[];
    expect(Array.isArray(body)).toBe(true);
    expect(body.map((g) => g.service)).toEqual(ORDER);
    // The original's five fields, each as it had them; `version` is the one key added, which the original's UI ignores.
    for (const greeting of body) expect(Object.keys(greeting).sort()).toEqual(['created', 'hostname', 'id', 'message', 'service', 'version']);
  });
});

/** What the Angular UI's greeting component does, reduced to its requests: HttpClient.get with the header, then *ngFor over the array. */
const ANGULAR_LIKE_PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>original UI</title><link rel="icon" href="data:,"></head>
<body><ul id="greetings"></ul><p id="error"></p><script>
  function getGreetings(apiUrl) {
    var xhr = new XMLHttpRequest();
    xhr.open('GET', apiUrl + '/api/greeting');
    xhr.setRequestHeader('Content-Type', 'application/json');
    xhr.responseType = 'json';
    xhr.onload = function () {
      if (!Array.isArray(xhr.response)) { document.getElementById('error').textContent = 'not an array: ' + xhr.status; return; }
      xhr.response.forEach(function (g) {
        var li = document.createElement('li');
        li.textContent = g.service + ' | ' + g.message + ' | ' + g.hostname + ' | ' + g.created;
        document.getElementById('greetings').appendChild(li);
      });
    };
    xhr.onerror = function () { document.getElementById('error').textContent = 'request failed (CORS?)'; };
    xhr.send();
  }
</script></body></html>`;

describeInBrowser('the original UI\'s request, in a real browser from another origin', ({ test, beforeAll, afterAll }) => {
  let browser: Browser;
  let uiServer: ReturnType<typeof Bun.serve>;

  beforeAll(async () => {
    // Served from localhost while A answers on 127.0.0.1: another origin, so the browser enforces CORS.
    uiServer = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => new Response(ANGULAR_LIKE_PAGE, { headers: { 'content-type': 'text/html; charset=utf-8' } }) });
    browser = await launchBrowser();
  }, 30_000);

  afterAll(async () => {
    await browser?.close();
    uiServer?.stop(true);
  });

  test('the browser preflights, then lists the seven greetings from the bare array', async () => {
    const page = await browser.newPage();
    const uiUrl = `http://localhost:${uiServer.port}/`;
    await page.goto(uiUrl);
    expect(new URL(uiUrl).origin).not.toBe(new URL(api).origin);
    const before = await preflightsSeen();
    await page.evaluate((apiUrl) => (window as unknown as { getGreetings(u: string): void }).getGreetings(apiUrl), api);
    await page.waitForFunction(() => document.querySelectorAll('#greetings li').length === 7 || document.getElementById('error')!.textContent !== '');
    expect(await page.textContent('#error')).toBe('');
    const items = await page.$$eval('#greetings li', (lis) => lis.map((li) => li.textContent ?? ''));
    expect(items.map((item) => item.split(' | ')[0])).toEqual(ORDER);
    expect(await preflightsSeen()).toBe(before + 1);
    await page.close();
  });
});

/** The original gRPC variant's UI, reduced the same way: it read `greetings.greeting` from its grpc-gateway. */
const GRPC_VARIANT_PAGE = ANGULAR_LIKE_PAGE.replace('if (!Array.isArray(xhr.response))', 'if (!xhr.response || !Array.isArray(xhr.response.greeting))').replace(
  'xhr.response.forEach(',
  'xhr.response.greeting.forEach(',
);

describeInBrowser("the original gRPC variant's UI, against an edge answering the gateway's shape (GREETING_SHAPE=gateway)", ({ test, beforeAll, afterAll }) => {
  let browser: Browser;
  let uiServer: ReturnType<typeof Bun.serve>;
  let gateway: InProcessPlatform;

  beforeAll(async () => {
    gateway = await startInProcess(loadConfig().config, { ephemeralPorts: true, env: readEnv({ LOG_LEVEL: 'warn', DRAIN_DELAY_MS: '0', GREETING_SHAPE: 'gateway', TRANSPORT: 'grpc' }) });
    uiServer = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => new Response(GRPC_VARIANT_PAGE, { headers: { 'content-type': 'text/html; charset=utf-8' } }) });
    browser = await launchBrowser();
  }, 30_000);

  afterAll(async () => {
    await browser?.close();
    uiServer?.stop(true);
    await gateway?.stop();
  });

  test('it lists the seven greetings from `greeting`, and our own UI on that edge draws the same seven cards', async () => {
    const page = await browser.newPage();
    await page.goto(`http://localhost:${uiServer.port}/`);
    await page.evaluate((apiUrl) => (window as unknown as { getGreetings(u: string): void }).getGreetings(apiUrl), gateway.url('a'));
    await page.waitForFunction(() => document.querySelectorAll('#greetings li').length === 7 || document.getElementById('error')!.textContent !== '');
    expect(await page.textContent('#error')).toBe('');
    expect((await page.$$eval('#greetings li', (lis) => lis.map((li) => li.textContent ?? ''))).map((i) => i.split(' | ')[0])).toEqual(ORDER);
    await page.goto(`${gateway.url('a')}/`);
    await page.click('#call');
    await page.waitForSelector('#cards > li:nth-child(7)');
    expect(await page.textContent('#status')).toMatch(/^200 OK · 7 greetings/);
    await page.close();
  });
});
