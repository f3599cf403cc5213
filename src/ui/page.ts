/**
 * The web UI: one HTML file with its CSS and script inline, compiled into the binary as text (no file is read at run time, so the
 * single binary serves it). The Content-Security-Policy allows exactly that inline style and script, by hash, and lets the page
 * call any API host a person types in.
 */
import { createHash } from 'node:crypto';
import pageSource from './index.html' with { type: 'text' };

// Bun's types describe an `.html` import as an HTML bundle; imported `with { type: 'text' }` it is the file's text.
const html = pageSource as unknown as string;

function inlineHash(tag: 'script' | 'style'): string {
  const match = new RegExp(`<${tag}[^>]*>([\\s\\S]*?)</${tag}>`).exec(html);
  if (!match) throw new Error(`src/ui/index.html has no inline <${tag}>`);
  return `'sha256-${createHash('sha256').update(match[1]!).digest('base64')}'`;
}

export const UI_CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  `script-src ${inlineHash('script')}`,
  `style-src ${inlineHash('style')}`,
  // The API host is whatever the person enters; the page only reads JSON from it.
  'connect-src *',
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

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
