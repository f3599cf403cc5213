/**
 * The sets of objects a cluster can be given: each overlay as shipped, each overlay with each component it does not include
 * alone, and with all of them at once (a component is any kustomization of `kind: Component` under deploy/ that no other
 * component includes: grpc-transport/generated is a part of grpc-transport, not a choice of its own). Not every subset: with
 * four optional components that was 24 sets and 44 s, and two components interact only where both change one object, which
 * the set with all of them shows. Then the scenarios: each scenario file of deploy/istio/scenarios (and the gateway-api
 * component's twins) over the set it is applied to, as a cluster holds it once applied. The tree is rendered from a private
 * copy, so the composed kustomizations are never written into the repository.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import type { K8sObject } from './kube-client';
import { run } from './processes';
import type { CatalogueIndex, IndexedFlavour } from '../render/scenario-index';
import { CATALOGUE_FILE } from '../render/scenario-index';

/** The complete deployments; everything else is a part of them. */
export const OVERLAYS = ['kind', 'gke'] as const;

export interface RenderedSet {
  /** e.g. `deploy/kind` or `deploy/kind + components/external-backends`. */
  name: string;
  /** Where the gate applies this set, so sets never overwrite each other on the one API server. */
  namespace: string;
  /** As kustomize renders it (namespace `dev`). */
  objects: K8sObject[];
  /** The rendered YAML, for istioctl. */
  file: string;
  /** An overlay exactly as shipped (not a combination the gate composed). */
  shipped: boolean;
  overlay: (typeof OVERLAYS)[number];
  /** The components the gate added to the overlay, relative to deploy/ (none for the overlay as shipped). */
  components: string[];
}

/** Every document of a YAML stream (kustomize's or istioctl's output), empty documents dropped; a syntax error throws. */
export function parseYamlStream<T = K8sObject>(text: string): T[] {
  return parseAllDocuments(text)
    .map((doc) => {
      if (doc.errors.length > 0) throw new Error(doc.errors.map((e) => e.message).join('\n'));
      return doc.toJS() as T | null;
    })
    .filter((o): o is T => o !== null);
}

export function kustomizeBuild(kustomize: string[], dir: string): K8sObject[] {
  const [bin, ...args] = kustomize;
  const result = run(bin!, [...args, dir]);
  if (result.status !== 0) throw new Error(`${kustomize.join(' ')} ${dir} failed:\n${result.stderr.trim()}`);
  return parseYamlStream(result.stdout);
}

function kustomizations(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (!statSync(path).isDirectory() || name.startsWith('.')) return [];
    const file = join(path, 'kustomization.yaml');
    return [...(existsSync(file) ? [path] : []), ...kustomizations(path)];
  });
}

function kustomization(dir: string): { kind?: string; components?: string[] } {
  return parse(readFileSync(join(dir, 'kustomization.yaml'), 'utf8')) ?? {};
}

/** The overlay as shipped, each extra component alone, and all of them together. */
function selections<T>(items: T[]): T[][] {
  return [[], ...items.map((item) => [item]), ...(items.length > 1 ? [items] : [])];
}

/** Components that another component includes: parts of a choice, not choices. */
function parts(components: string[]): Set<string> {
  return new Set(components.flatMap((dir) => (kustomization(dir).components ?? []).map((c) => resolve(dir, c))));
}

function slug(text: string): string {
  return text.replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 63).replace(/-$/, '');
}

/** Renders every set of `root`'s deploy/ tree, through a copy under `work`; `prefix` keeps each tree's namespaces its own. */
export function renderedSets(root: string, kustomize: string[], work: string, prefix = 'v'): RenderedSet[] {
  const deploy = join(work, 'deploy');
  cpSync(join(root, 'deploy'), deploy, { recursive: true, filter: (src) => !src.endsWith('/.release') });
  const all = kustomizations(deploy).filter((dir) => kustomization(dir).kind === 'Component');
  const nested = parts(all);
  const components = all.filter((c) => !nested.has(c));
  const sets: RenderedSet[] = [];
  for (const overlay of OVERLAYS) {
    const dir = join(deploy, overlay);
    const own = (kustomization(dir).components ?? []).map((c) => resolve(dir, c));
    const extras = components.filter((c) => !own.includes(c));
    for (const extra of selections(extras)) {
      const label = [`deploy/${overlay}`, ...extra.map((c) => relative(deploy, c))].join(' + ');
      let target = dir;
      if (extra.length > 0) {
        target = join(deploy, '.verify', slug(label));
        mkdirSync(target, { recursive: true });
        const body = {
          apiVersion: 'kustomize.config.k8s.io/v1beta1',
          kind: 'Kustomization',
          namespace: 'dev',
          resources: [relative(target, dir)],
          components: extra.map((c) => relative(target, c)),
        };
        writeFileSync(join(target, 'kustomization.yaml'), JSON.stringify(body, null, 2));
      }
      const objects = kustomizeBuild(kustomize, target);
      const file = join(work, `${slug(label)}.yaml`);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, objects.map((o) => JSON.stringify(o)).join('\n---\n'));
      sets.push({
        name: label,
        namespace: `${prefix}-${slug(label)}`.slice(0, 63).replace(/-$/, ''),
        objects,
        file,
        shipped: extra.length === 0,
        overlay,
        components: extra.map((c) => relative(deploy, c)),
      });
    }
  }
  return sets;
}

/** The component whose scenario twins the Gateway API flavour holds. */
export const GATEWAY_API_COMPONENT = 'components/gateway-api';

export interface ScenarioSet extends RenderedSet {
  scenario: string;
  flavour: 'istio' | 'gateway-api';
  /** The set the scenario is applied over, as shipped. */
  base: RenderedSet;
  /** The scenario file's own objects (namespace `dev`, as the command applies them). */
  applied: K8sObject[];
  replaces: IndexedFlavour['replaces'];
  adds: IndexedFlavour['adds'];
}

const refKey = (o: { kind: string; name: string }) => `${o.kind}/${o.name}`;

/**
 * Every scenario, as the cluster holds it once applied: the kind overlay as shipped (or with the gateway-api component, for
 * that flavour) with the objects the scenario replaces swapped for its own and what it adds added. `work` is where
 * renderedSets copied the tree.
 */
export function scenarioSets(work: string, sets: RenderedSet[]): ScenarioSet[] {
  const index = join(work, CATALOGUE_FILE);
  if (!existsSync(index)) return [];
  const catalogue = JSON.parse(readFileSync(index, 'utf8')) as CatalogueIndex;
  const bases = {
    istio: sets.find((s) => s.overlay === 'kind' && s.shipped),
    'gateway-api': sets.find((s) => s.overlay === 'kind' && s.components.length === 1 && s.components[0] === GATEWAY_API_COMPONENT),
  };
  const out: ScenarioSet[] = [];
  for (const entry of catalogue.scenarios) {
    for (const flavour of ['istio', 'gateway-api'] as const) {
      const f = flavour === 'istio' ? entry.istio : entry.gatewayApi;
      const base = bases[flavour];
      if ('cannot' in f || !base) continue;
      const applied = parseYamlStream(readFileSync(join(work, f.file), 'utf8')).map((o) => ({ ...o, metadata: { ...o.metadata, namespace: 'dev' } }));
      const swapped = new Set([...f.replaces.map(refKey)]);
      const objects = [...base.objects.filter((o) => !swapped.has(refKey({ kind: o.kind, name: o.metadata.name }))), ...applied];
      const label = `${base.name} + scenario ${entry.id}`;
      // Numbered: two long scenario names could slug to the same 63 characters.
      const file = join(work, `scenario-set-${out.length}.yaml`);
      writeFileSync(file, objects.map((o) => JSON.stringify(o)).join('\n---\n'));
      out.push({ ...base, name: label, file, objects, shipped: false, scenario: entry.id, flavour, base, applied, replaces: f.replaces, adds: f.adds });
    }
  }
  return out;
}

/** Per flavour, every scenario's own objects in one file: what `istioctl validate`, which checks objects one by one, needs. */
export function scenarioFiles(sets: ScenarioSet[], work: string): RenderedSet[] {
  mkdirSync(work, { recursive: true });
  return (['istio', 'gateway-api'] as const).flatMap((flavour) => {
    const of = sets.filter((s) => s.flavour === flavour);
    if (of.length === 0) return [];
    const objects = of.flatMap((s) => s.applied);
    const file = join(work, `${flavour}.yaml`);
    writeFileSync(file, objects.map((o) => JSON.stringify(o)).join('\n---\n'));
    return [{ ...of[0]!.base, name: `the ${of.length} scenario files over ${of[0]!.base.name}`, file, objects, shipped: false }];
  });
}
