/**
 * Applying objects to the real API server, in dependency order, and reading them back: what the server refused, what it stored
 * differently from what was applied (pruned or rewritten fields), and how many fields it defaulted.
 */
import { objectName, statusMessage, type K8sObject, type KubeClient } from './kube-client';
import type { Finding } from './findings';

/** Kinds others depend on go first: a namespace before its objects, a CRD before its custom resources. */
const ORDER = ['Namespace', 'CustomResourceDefinition', 'ServiceAccount', 'Secret', 'ConfigMap', 'Service'];
const rank = (o: K8sObject) => (ORDER.includes(o.kind) ? ORDER.indexOf(o.kind) : ORDER.length);

export function applyOrder(objects: K8sObject[]): K8sObject[] {
  return [...objects].sort((a, b) => rank(a) - rank(b));
}

/** A copy of the set moved into `namespace` (the Namespace object renamed), so sets never overwrite each other. */
export function inNamespace(objects: K8sObject[], namespace: string, client: KubeClient): K8sObject[] {
  return objects.map((original) => {
    const o = structuredClone(original);
    if (o.kind === 'Namespace' && o.apiVersion === 'v1') o.metadata.name = namespace;
    else if (client.isNamespaced(o)) o.metadata.namespace = namespace;
    return o;
  });
}

export interface Applied {
  object: K8sObject;
  stored: K8sObject;
}

/** Applies every object (real, or a dry run); a refusal is a finding naming the object, and the rest still go on. */
export async function applyAll(
  client: KubeClient,
  objects: K8sObject[],
  options: { dryRun?: boolean } = {},
): Promise<{ applied: Applied[]; findings: Finding[] }> {
  const applied: Applied[] = [];
  const findings: Finding[] = [];
  for (const object of applyOrder(objects)) {
    if (!client.knows(object.apiVersion, object.kind)) {
      findings.push({ object: objectName(object), message: `the API server serves no ${object.kind} in ${object.apiVersion}` });
      continue;
    }
    const answer = await client.apply(object, options);
    if (answer.status >= 300) findings.push({ object: objectName(object), message: statusMessage(answer) });
    else applied.push({ object, stored: answer.body });
  }
  return { applied, findings };
}

/**
 * Removes what was applied, so the next tree checked starts from nothing. Namespaces stay (with no controller manager to empty
 * them, a deleted one would stay Terminating), and so do CRDs (every custom resource of every tree depends on them).
 */
export async function deleteAll(client: KubeClient, applied: Applied[]): Promise<void> {
  const kept = new Set(['Namespace', 'CustomResourceDefinition']);
  for (const { object } of [...applied].reverse()) if (!kept.has(object.kind)) await client.delete(object);
}

/** Kubernetes stores a Secret's data decoded and re-encodes it unwrapped; kustomize wraps long base64 values over lines. */
function comparable(path: string, value: unknown): unknown {
  return /^\.data\./.test(path) && typeof value === 'string' ? value.replace(/\s+/g, '') : value;
}

const SUFFIXES: Record<string, number> = {
  '': 1, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

/** A resource quantity's value: the server stores quantities in canonical form ("2000m" becomes "2", "1024Mi" "1Gi"). */
function quantity(value: unknown): number | undefined {
  const m = typeof value === 'string' || typeof value === 'number' ? /^([0-9.]+)([a-zA-Z]*)$/.exec(String(value)) : null;
  const factor = m ? SUFFIXES[m[2]!] : undefined;
  return m && factor !== undefined ? Number(m[1]) * factor : undefined;
}

const QUANTITY_PATH = /\.(limits|requests|capacity)\.[^.]+$|\.(sizeLimit|storage)$/;

/** The zero values Kubernetes' JSON omits (`omitempty`): applying one is the same as leaving the field out. */
function isZero(value: unknown): boolean {
  if (value === null || value === '' || value === false || value === 0) return true;
  if (Array.isArray(value)) return value.length === 0;
  return typeof value === 'object' && Object.keys(value as object).length === 0;
}

/**
 * Where the stored object differs from the applied one: a field that is missing (pruned) or holds another value (rewritten).
 * The equivalences the API defines (canonical quantities, omitted zero values) are not differences; fields only the server
 * has are its defaults, counted separately.
 */
export function differences(applied: unknown, stored: unknown, path = ''): string[] {
  if (Array.isArray(applied)) {
    if (!Array.isArray(stored)) return isZero(applied) && stored === undefined ? [] : [`${path}: applied a list, stored ${JSON.stringify(stored)}`];
    if (stored.length !== applied.length) return [`${path}: applied ${applied.length} items, stored ${stored.length}`];
    return applied.flatMap((item, i) => differences(item, stored[i], `${path}[${i}]`));
  }
  if (applied !== null && typeof applied === 'object') {
    if (stored === null || typeof stored !== 'object') return isZero(applied) && stored === undefined ? [] : [`${path}: applied an object, stored ${JSON.stringify(stored)}`];
    return Object.entries(applied).flatMap(([key, value]) => {
      const next = `${path}.${key}`;
      if (!(key in (stored as object))) return isZero(value) ? [] : [`${next}: applied ${JSON.stringify(value)}, not stored`];
      return differences(value, (stored as Record<string, unknown>)[key], next);
    });
  }
  const a = comparable(path, applied);
  const s = comparable(path, stored);
  if (a === s) return [];
  if (QUANTITY_PATH.test(path) && quantity(a) !== undefined && quantity(a) === quantity(s)) return [];
  return [`${path}: applied ${JSON.stringify(applied)}, stored ${JSON.stringify(stored)}`];
}

/** How many leaf fields the server filled in that the applied object did not set (outside metadata and status). */
export function defaultedFields(applied: unknown, stored: unknown): number {
  if (stored === null || typeof stored !== 'object') return applied === undefined ? 1 : 0;
  if (Array.isArray(stored)) {
    const a = Array.isArray(applied) ? applied : [];
    return stored.reduce((n: number, item, i) => n + defaultedFields(a[i], item), 0);
  }
  const a = applied !== null && typeof applied === 'object' ? (applied as Record<string, unknown>) : {};
  return Object.entries(stored).reduce((n, [key, value]) => n + defaultedFields(a[key], value), 0);
}

/** Reads every applied object back from the server and compares it with what was applied. */
export async function readBack(client: KubeClient, applied: Applied[]): Promise<{ findings: Finding[]; defaulted: number }> {
  const findings: Finding[] = [];
  let defaulted = 0;
  for (const { object } of applied) {
    const answer = await client.get(object);
    if (answer.status !== 200) {
      findings.push({ object: objectName(object), message: `applied, but reading it back answered ${statusMessage(answer)}` });
      continue;
    }
    const { metadata: _m, status: _s, ...spec } = answer.body;
    const { metadata: _am, ...appliedSpec } = object;
    for (const d of differences(appliedSpec, spec)) findings.push({ object: objectName(object), message: `stored differently: ${d}` });
    for (const key of ['labels', 'annotations'] as const) {
      for (const d of differences(object.metadata[key] ?? {}, answer.body.metadata[key] ?? {}, `.metadata.${key}`))
        findings.push({ object: objectName(object), message: `stored differently: ${d}` });
    }
    defaulted += defaultedFields(appliedSpec, spec);
  }
  return { findings, defaulted };
}
