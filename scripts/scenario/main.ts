/**
 * `npm run scenario`: applies and undoes the traffic scenarios of deploy/istio/scenarios/ with kubectl, on the cluster of the
 * current context, in the namespace both overlays deploy to. Reads the catalogue the render writes beside the files
 * (scenarios.json), so it needs neither the config nor a render.
 *
 * The commands and options are in USAGE (`npm run scenario -- --help`).
 * Exits 2 on a usage error (an unknown scenario, one Gateway API cannot express), 1 when kubectl fails.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import type { CatalogueIndex, IndexEntry, IndexedFlavour } from '../render/scenario-index';
import { CATALOGUE_FILE } from '../render/scenario-index';
import { NAMESPACE } from '../render/layout';
import { SCENARIO_FIELD_MANAGER } from '../render/scenario-readme';

const ROOT = resolve(import.meta.dir, '../..');

class UsageError extends Error {}

const USAGE = `usage: npm run scenario -- [--dry-run] [--gateway-api] <id>...        apply these scenarios, in this order
       npm run scenario -- [--dry-run] [--gateway-api] --undo <id>...  put back what each replaced, delete what each added
       npm run scenario -- [--dry-run] [--gateway-api] reset           undo every scenario
       npm run scenario -- --list                                      the scenarios, what each shows, what to pair it with
--dry-run prints every kubectl command (and the objects it would send) and runs none; --gateway-api uses the Gateway API twins.`;

interface Options {
  dryRun: boolean;
  gatewayApi: boolean;
  list: boolean;
  help: boolean;
  undo: boolean;
  ids: string[];
}

function parseArgs(argv: string[]): Options {
  const options: Options = { dryRun: false, gatewayApi: false, list: false, help: false, undo: false, ids: [] };
  for (const arg of argv) {
    if (arg === '--dry-run') options.dryRun = true;
    else if (arg === '--gateway-api') options.gatewayApi = true;
    else if (arg === '--list') options.list = true;
    else if (arg === '--undo') options.undo = true;
    else if (arg === '--help' || arg === '-h') options.help = true;
    else if (arg.startsWith('-')) throw new UsageError(`unknown option '${arg}'`);
    else options.ids.push(arg);
  }
  if (options.help) return options;
  if (!options.list && options.ids.length === 0) throw new UsageError('name a scenario, `reset`, or --list');
  if (options.ids.includes('reset') && (options.ids.length > 1 || options.undo)) throw new UsageError('`reset` undoes every scenario: give it alone');
  return options;
}

/** One kubectl run: its arguments and, for an apply of objects that are not a file, the YAML it reads on stdin. */
interface Step {
  args: string[];
  stdin?: string;
  /** What the step does, in words, for the dry run and the log. */
  what: string;
}

const APPLY = ['-n', NAMESPACE, 'apply', '--server-side', `--field-manager=${SCENARIO_FIELD_MANAGER}`, '--force-conflicts'];

function flavour(entry: IndexEntry, gatewayApi: boolean): IndexedFlavour {
  if (!gatewayApi) return entry.istio;
  if ('cannot' in entry.gatewayApi) throw new UsageError(`${entry.id} has no Gateway API twin: ${entry.gatewayApi.cannot}`);
  return entry.gatewayApi;
}

/** The shipped objects named, read from the files the render committed, as one YAML stream. */
function shippedObjects(refs: { kind: string; name: string; from: string }[]): string {
  const texts = new Map<string, unknown[]>();
  const docs = refs.map((ref) => {
    if (!texts.has(ref.from)) texts.set(ref.from, parseAllDocuments(readFileSync(join(ROOT, ref.from), 'utf8')).map((d) => d.toJS()));
    const found = texts.get(ref.from)!.find((o: any) => o?.kind === ref.kind && o?.metadata?.name === ref.name);
    if (!found) throw new Error(`${ref.from} holds no ${ref.kind} ${ref.name}: run \`npm run render\``);
    return stringify(found, { lineWidth: 0 });
  });
  return docs.join('---\n');
}

function applySteps(entry: IndexEntry, gatewayApi: boolean): Step[] {
  const f = flavour(entry, gatewayApi);
  return [{ args: [...APPLY, '-f', f.file], what: `apply ${entry.id}: ${entry.title}` }];
}

function undoSteps(entries: IndexEntry[], gatewayApi: boolean, what: string): Step[] {
  const flavours = entries.map((e) => flavour(e, gatewayApi));
  const seen = new Set<string>();
  const replaced = flavours.flatMap((f) => f.replaces).filter((r) => !seen.has(`${r.kind}/${r.name}`) && seen.add(`${r.kind}/${r.name}`));
  const steps: Step[] = [];
  if (replaced.length > 0)
    steps.push({
      args: [...APPLY, '-f', '-'],
      stdin: shippedObjects(replaced),
      what: `${what}: the shipped ${replaced.map((r) => `${r.kind}/${r.name}`).join(', ')}`,
    });
  for (const f of flavours) {
    if (f.adds.length === 0) continue;
    // The render writes a scenario's additions in a file of their own, so deleting the file's objects deletes exactly those.
    if (f.replaces.length > 0) throw new Error(`${f.file} both replaces and adds objects; the catalogue never writes such a file`);
    steps.push({ args: ['-n', NAMESPACE, 'delete', '--ignore-not-found', '-f', f.file], what: `${what}: delete ${f.adds.map((a) => `${a.kind}/${a.name}`).join(', ')}` });
  }
  return steps;
}

function plan(options: Options, catalogue: CatalogueIndex): Step[] {
  const byId = new Map(catalogue.scenarios.map((s) => [s.id, s]));
  if (options.ids[0] === 'reset') return undoSteps(catalogue.scenarios.filter((s) => !options.gatewayApi || !('cannot' in s.gatewayApi)), options.gatewayApi, 'reset');
  const entries = options.ids.map((id) => {
    const entry = byId.get(id);
    if (!entry) throw new UsageError(`no scenario '${id}'; there are: ${[...byId.keys()].join(', ')}, and reset`);
    return entry;
  });
  if (options.undo) return undoSteps(entries, options.gatewayApi, `undo ${options.ids.join(' ')}`);
  return entries.flatMap((e) => applySteps(e, options.gatewayApi));
}

const quote = (arg: string) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", "'\\''")}'`);

function printStep(step: Step): void {
  console.log(`# ${step.what}`);
  const line = `+ kubectl ${step.args.map(quote).join(' ')}`;
  console.log(step.stdin === undefined ? line : `${line} <<'YAML'\n${step.stdin.trimEnd()}\nYAML`);
}

function list(catalogue: CatalogueIndex): void {
  for (const s of catalogue.scenarios) {
    const gateway = 'cannot' in s.gatewayApi ? 'Istio only' : 'Istio and Gateway API';
    console.log(`${s.id.padEnd(28)} ${s.title}${s.pairsWith ? ` (with ${s.pairsWith})` : ''} [${gateway}]`);
  }
}

function main(argv: string[]): number {
  let options: Options;
  try {
    options = parseArgs(argv);
  } catch (err) {
    console.error(`scenario: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (options.help) {
    console.log(USAGE);
    return 0;
  }
  const catalogue = JSON.parse(readFileSync(join(ROOT, CATALOGUE_FILE), 'utf8')) as CatalogueIndex;
  if (options.list) {
    list(catalogue);
    return 0;
  }
  let steps: Step[];
  try {
    steps = plan(options, catalogue);
  } catch (err) {
    console.error(`scenario: ${(err as Error).message}`);
    return err instanceof UsageError ? 2 : 1;
  }
  if (options.dryRun) {
    for (const step of steps) printStep(step);
    return 0;
  }
  for (const step of steps) {
    console.error(`scenario: ${step.what}`);
    const result = spawnSync('kubectl', step.args, { cwd: ROOT, input: step.stdin, stdio: [step.stdin === undefined ? 'inherit' : 'pipe', 'inherit', 'inherit'] });
    if (result.error) {
      console.error(`scenario: cannot run kubectl (${(result.error as NodeJS.ErrnoException).code ?? result.error.message}): see deploy/README.md, prerequisites`);
      return 1;
    }
    if (result.status !== 0) {
      console.error(`scenario: kubectl ${step.args.join(' ')} exited ${result.status}; the steps after it were not run`);
      return 1;
    }
  }
  return 0;
}

process.exitCode = main(process.argv.slice(2));
