/**
 * The README's parts that repeat a declaration in the code, rendered from it between two markers so they cannot drift: the
 * table of environment variables comes from src/config/env.ts (VARIABLES, and the OTEL_* rows otel-env.ts declares). The
 * rest of the README is hand-written and left as it is.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { variableDocs } from '../../src/config/env';

export const README = 'README.md';

const BEGIN = '<!-- rendered from src/config/env.ts by `npm run render`: edit the variables there -->';
const END = '<!-- end of rendered variables -->';

export function variablesTable(): string {
  const rows = variableDocs().map(({ names, doc }) => `| ${names.map((n) => `\`${n}\``).join(', ')} | ${doc} |`);
  return ['| variable | meaning |', '|---|---|', ...rows].join('\n');
}

/** The README under `root` with its variables table as rendered, or undefined when it has no README (a bare deploy/ copy). */
export function renderedReadme(root: string): string | undefined {
  const file = join(root, README);
  if (!existsSync(file)) return undefined;
  const text = readFileSync(file, 'utf8');
  const begin = text.indexOf(BEGIN);
  const end = text.indexOf(END);
  if (begin < 0 || end < begin) throw new Error(`${file} has no ${BEGIN} ... ${END} block for the variables table`);
  return `${text.slice(0, begin + BEGIN.length)}\n${variablesTable()}\n${text.slice(end)}`;
}
