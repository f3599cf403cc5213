/** The page as the edge serves it, without a browser: where it is served, and that its security policy lets exactly its own inline code run. */
import { describe, expect, test } from 'bun:test';
import { createHash } from 'node:crypto';
import { roleUnderTest } from '../support/role-under-test';

const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

describe('GET /', () => {
  test('the edge serves the web UI as HTML, with a policy that allows its inline script and style by hash', async () => {
    const response = await roleUnderTest('a').get('/');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    const html = await response.text();
    expect(html).toContain('<title>greeting-mesh</title>');
    const script = /<script type="module">([\s\S]*?)<\/script>/.exec(html)![1]!;
    const style = /<style>([\s\S]*?)<\/style>/.exec(html)![1]!;
    const policy = response.headers.get('content-security-policy') ?? '';
    expect(policy).toContain(`script-src ${sha256(script)}`);
    expect(policy).toContain(`style-src ${sha256(style)}`);
    expect(policy).toContain("default-src 'none'");
    expect(policy).not.toContain('unsafe-inline');
  });

  test('every other role has no UI', async () => {
    const response = await roleUnderTest('b').get('/');
    expect(response.status).toBe(404);
  });

  test('the page never writes an answer as HTML: API data goes through textContent only', async () => {
    const html = await (await roleUnderTest('a').get('/')).text();
    expect(html).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write/);
  });
});
