/** Small text formats the text summary and the HTML page share. */
import type { Spread } from './rounds';
import type { ScenarioResult } from './scenario';

/** `512 [480-530]` over several rounds, `512` for one. */
export function spreadText(s: Spread | undefined, digits = 0): string {
  if (!s) return '-';
  const v = (x: number) => x.toFixed(digits);
  return s.n > 1 ? `${v(s.median)} [${v(s.min)}-${v(s.max)}]` : v(s.median);
}

/** "main 62%, HTTP Client 30%, ..." for the threads that used at least 2% of the process's CPU. */
export function threadShares(byThread: Record<string, number>): string {
  const total = Object.values(byThread).reduce((a, b) => a + b, 0);
  if (total <= 0) return '';
  return Object.entries(byThread)
    .filter(([, s]) => s / total >= 0.02)
    .map(([name, s]) => `${name} ${Math.round((s / total) * 100)}%`)
    .join(', ');
}

/** Of the requests sent, the share answered exactly right (unanswered ones count against it). */
export function exactShare(exact: number, requests: number): string {
  return requests > 0 ? `${((exact / requests) * 100).toFixed(exact === requests ? 0 : 2)}%` : '-';
}

/** The idle memory of a scenario's processes summed: RSS counts the pages they share (the executable's) once per process, PSS once. */
export function idleTogether(r: Pick<ScenarioResult, 'setup'>): { processes: number; rssMb: number; pssMb: number } | undefined {
  const idle = Object.values(r.setup.idle);
  if (idle.length === 0) return undefined;
  const sum = (f: (p: (typeof idle)[number]) => number) => Math.round(idle.reduce((total, p) => total + f(p), 0) * 10) / 10;
  return { processes: idle.length, rssMb: sum((p) => p.idleRssMb), pssMb: sum((p) => p.idlePssMb) };
}
