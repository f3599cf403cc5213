/**
 * The series names and label names a PromQL expression uses. Not a PromQL parser: enough for dashboard queries (selectors,
 * ranges, aggregations with by/without, binary operators), and strict where it matters: a bare identifier that is not a
 * function or keyword counts as a series name, so a typo in a metric name is caught, never skipped.
 */
const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless', 'offset']);

export interface PromqlParts {
  metrics: string[];
  labels: string[];
}

export function promqlParts(expr: string): PromqlParts {
  const labels: string[] = [];
  let rest = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  rest = rest.replace(/\{([^}]*)\}/g, (_, inner: string) => {
    for (const m of inner.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)/g)) labels.push(m[1]!);
    return ' ';
  });
  rest = rest.replace(/\[[^\]]*\]/g, ' ');
  rest = rest.replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g, (_, inner: string) => {
    labels.push(...inner.split(',').map((l) => l.trim()).filter(Boolean));
    return ' ';
  });
  const metrics: string[] = [];
  for (const m of rest.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\()?/g)) {
    if (m[2] || KEYWORDS.has(m[1]!)) continue;
    metrics.push(m[1]!);
  }
  return { metrics, labels };
}

/** Grafana's `label_values(metric, label)` variable query. */
export function labelValuesParts(query: string): PromqlParts | undefined {
  const m = /^label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s*,\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\)$/.exec(query.trim());
  if (!m) return undefined;
  return { metrics: [m[1]!], labels: [...promqlParts(m[2] ?? '').labels, m[3]!] };
}
