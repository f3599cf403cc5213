/**
 * The page's Content-Security-Policy, which allows exactly its inline style and script, by hash. page.ts imports it as a Bun
 * macro: the hashes are taken when the code is bundled (or transpiled, for `bun src/...`), so a start neither loads
 * node:crypto nor hashes the page (the Node bundle does both at start: tsup.config.ts).
 */
import { createHash } from 'node:crypto';
import pageSource from './index.html' with { type: 'text' };

function inlineHash(html: string, tag: 'script' | 'style'): string {
  const match = new RegExp(`<${tag}[^>]*>([\\s\\S]*?)</${tag}>`).exec(html);
  if (!match) throw new Error(`src/ui/index.html has no inline <${tag}>`);
  return `'sha256-${createHash('sha256').update(match[1]!).digest('base64')}'`;
}

export function contentSecurityPolicy(): string {
  // Bun's types describe an `.html` import as an HTML bundle; imported `with { type: 'text' }` it is the file's text.
  const html = pageSource as unknown as string;
  return [
    "default-src 'none'",
    `script-src ${inlineHash(html, 'script')}`,
    `style-src ${inlineHash(html, 'style')}`,
    // The API host is whatever the person enters; the page only reads JSON from it.
    'connect-src *',
    "img-src 'self' data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}
