/**
 * The web UI: one HTML file with its CSS and script inline, compiled into the binary as text (no file is read at run time, so the
 * single binary serves it), with the Content-Security-Policy csp.ts makes for it.
 */
import { contentSecurityPolicy } from './csp' with { type: 'macro' };
import pageSource from './index.html' with { type: 'text' };

// Bun's types describe an `.html` import as an HTML bundle; imported `with { type: 'text' }` it is the file's text.
const html = pageSource as unknown as string;

export const UI_CONTENT_SECURITY_POLICY = contentSecurityPolicy();

const HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy': UI_CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  // The page changes only with the binary; revalidating keeps a browser from showing an old UI after an upgrade.
  'cache-control': 'no-cache',
};

export function uiPage(): Response {
  return new Response(html, { headers: HEADERS });
}
