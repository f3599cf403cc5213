/** The queries of the Grafana dashboard under deploy/grafana/: every panel target's expression and every query variable. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const DASHBOARD = join(import.meta.dir, '..', '..', 'deploy', 'grafana', 'greeting-mesh-dashboard.json');

export interface Panel {
  type: string;
  title: string;
  targets?: { expr: string }[];
  panels?: Panel[];
}

export interface Variable {
  name: string;
  type: string;
  query?: string | { query: string };
  allValue?: string;
}

interface Dashboard {
  panels: Panel[];
  templating: { list: Variable[] };
}

const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as Dashboard;

/** Panels, rows' nested panels included, without the rows themselves. */
export const panels: Panel[] = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]).filter((p) => p.type !== 'row');

export const panelQueries: { panel: string; expr: string }[] = panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));

/** The dashboard's `query` variables with their query text (Grafana stores it either as a string or as `{ query }`). */
export const variableQueries: (Variable & { text: string })[] = dashboard.templating.list
  .filter((v) => v.type === 'query')
  .map((v) => ({ ...v, text: typeof v.query === 'string' ? v.query : v.query!.query }));
