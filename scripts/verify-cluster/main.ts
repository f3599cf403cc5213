/**
 * The cluster gate (`npm run verify:cluster`): the cluster files meet the real programs that consume them.
 *
 *   kube-apiserver  every overlay with every combination of the components it lacks, server-side applied for real,
 *                   read back, and upgraded from the previous version; every scenario applied over its set and undone;
 *                   Istio's CRDs and install (no webhooks) and Gateway API's CRDs applied first
 *   istioctl        the IstioOperator files through manifest generation, every rendered set and every scenario (over its
 *                   set) through `validate` and `analyze` (offline, with the generated install beside it)
 *   tilt            the Tiltfile through Tilt's own loader, in both modes
 *
 * Prints one line per check (and one per finding under a failed check) and exits 1 on any finding, 2 when it cannot run.
 *
 *   bun scripts/verify-cluster/main.ts [--root DIR]... [--upgrade-from GIT-REF|DIR] [--combinations all|each] [--report FILE] [--keep]
 *
 * --root           a tree to check (default: this repository); several share one API server (the seeded-defect test)
 * --upgrade-from   the version the upgrade check starts from: a git ref of the root's repository, or a directory holding a
 *                  deploy/ tree (default HEAD~1, or HEAD when the clone has no parent commit)
 * --combinations   all (default): every subset of the components an overlay lacks; each: as shipped, each alone and all
 *                  together, which still puts every file in front of every tool (the seeded-defect test's choice)
 * --report         also writes every result as JSON
 * --keep           leaves the work directory (logs, rendered sets, kubeconfig) in place
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { checkAdmission } from './checks/admission';
import { installGatewayApiCrds, installIstio, installIstioCrds } from './checks/istio-install';
import { checkAnalyze, checkValidate } from './checks/istio';
import { checkApply } from './checks/kubernetes';
import { checkScenarioApplies } from './checks/scenarios';
import { checkTiltfile, tiltTree } from './checks/tilt';
import { checkUpgrade } from './checks/upgrade';
import { startCluster, type Cluster } from './cluster';
import { format, type CheckResult } from './findings';
import { interfaces, isolated, reexecIsolated } from './isolate';
import { inPool, run } from './processes';
import { renderedSets, scenarioFiles, scenarioSets, type Combinations, type RenderedSet } from './render';
import { ToolMissing, findTools, type Tools } from './tools';

const REPOSITORY = resolve(import.meta.dir, '../..');

interface Options {
  roots: string[];
  upgradeFrom?: string;
  report?: string;
  combinations: Combinations;
  keep: boolean;
}

function parseArgs(argv: string[]): Options {
  const options: Options = { roots: [], keep: false, combinations: 'all' };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    if (arg === '--root') options.roots.push(resolve(value()));
    else if (arg === '--upgrade-from') options.upgradeFrom = value();
    else if (arg === '--report') options.report = resolve(value());
    else if (arg === '--combinations') {
      const v = value();
      if (v !== 'all' && v !== 'each') throw new Error(`--combinations: '${v}' is neither all nor each`);
      options.combinations = v;
    } else if (arg === '--keep') options.keep = true;
    else throw new Error(`unknown argument '${arg}'`);
  }
  if (options.roots.length === 0) options.roots.push(REPOSITORY);
  return options;
}

/** The deploy/ tree the upgrade starts from, extracted into `into`, and how to name it. */
function previousTree(root: string, from: string | undefined, into: string): { dir: string; label: string } {
  if (from !== undefined && existsSync(join(resolve(from), 'deploy'))) return { dir: resolve(from), label: from };
  if (from !== undefined && !/^[\w~^./-]+$/.test(from)) throw new Error(`--upgrade-from: not a git ref or directory: ${from}`);
  const git = (...args: string[]) => run('git', ['-C', root, ...args]);
  const ref = from ?? (git('rev-parse', '--verify', '-q', 'HEAD~1^{commit}').status === 0 ? 'HEAD~1' : 'HEAD');
  const commit = git('rev-parse', '--short', '--verify', `${ref}^{commit}`);
  if (commit.status !== 0) throw new Error(`--upgrade-from: ${ref} is neither a directory with deploy/ nor a commit of ${root}`);
  mkdirSync(into, { recursive: true });
  const archive = run('sh', ['-c', 'git -C "$1" archive "$2" deploy | tar -x -C "$3"', 'sh', root, ref, into]);
  if (archive.status !== 0) throw new Error(`cannot extract deploy/ of ${ref}: ${archive.stderr}`);
  return { dir: into, label: `${ref} (${commit.stdout.trim()})` };
}

async function checkRoot(tools: Tools, cluster: Cluster, root: string, index: number, options: Options, work: string) {
  const istio = await installIstio(tools, cluster, root, join(work, 'istio'));
  const results: CheckResult[] = [...istio.results];
  const sets = renderedSets(root, tools.kustomize, join(work, 'sets'), `v${index}`, options.combinations);
  const scenarios = scenarioSets(join(work, 'sets'), sets);
  const previous = previousTree(root, options.upgradeFrom, join(work, 'previous'));
  let before: RenderedSet[] = [];
  try {
    before = renderedSets(previous.dir, tools.kustomize, join(work, 'previous-sets'), 'v', 'shipped');
  } catch (err) {
    const message = `cannot render it, so the upgrade from it is unproven: ${(err as Error).message}`;
    results.push({ name: `kube-apiserver: upgrade from ${previous.label}`, root, findings: [{ object: previous.label, message }], summary: 'not run' });
  }
  // istioctl and Tilt run beside the applies: the API server is mostly idle waiting on them otherwise.
  const tree = tiltTree(root, work);
  const offline = inPool(
    [
      ...sets.map((set) => () => checkValidate(tools, set, root)),
      // validate reads each object alone, so the scenario files need one run per flavour, not one per scenario.
      ...scenarioFiles(scenarios, join(work, 'scenario-files')).map((set) => () => checkValidate(tools, set, root)),
      ...[...sets, ...scenarios].map((set) => () => checkAnalyze(tools, set, istio, root)),
      () => checkTiltfile(tools, cluster, tree, 'image', root),
      () => checkTiltfile(tools, cluster, tree, 'live', root),
    ],
    2,
  );
  for (const set of sets) results.push(await checkApply(cluster, set, root));
  results.push(...(await checkScenarioApplies(cluster, scenarios, root)));
  for (const set of sets.filter((s) => s.shipped)) {
    const old = before.find((s) => s.shipped && s.overlay === set.overlay);
    if (old) results.push(await checkUpgrade(cluster, old, set, previous.label, root));
  }
  results.push(...(await offline));
  return results;
}

async function main(argv: string[]): Promise<number> {
  const options = parseArgs(argv);
  reexecIsolated();
  const nics = interfaces();
  if (!isolated() || nics.some((n) => n !== 'lo')) throw new Error(`not in a loopback-only network namespace (interfaces: ${nics.join(', ')})`);
  console.log(`ok   network: a namespace of its own, interfaces: ${nics.join(', ') || 'lo (no address)'}`);
  const tools = findTools();
  console.log(`ok   tools: ${Object.entries(tools.versions).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  const work = mkdtempSync(join(tmpdir(), 'verify-cluster-'));
  const started = Date.now();
  const cluster = await startCluster(tools, join(work, 'cluster'));
  const all: CheckResult[] = [];
  const report = (result: CheckResult) => {
    all.push(result);
    console.log(format(result, options.roots.length > 1 ? basename(result.root) : ''));
  };
  try {
    console.log(`ok   kube-apiserver ${tools.versions['kube-apiserver']} on ${cluster.client.server}, ready after ${((Date.now() - started) / 1000).toFixed(1)} s`);
    report(await checkAdmission(cluster, REPOSITORY));
    report(await installIstioCrds(tools, cluster, REPOSITORY));
    report(await installGatewayApiCrds(tools, cluster, REPOSITORY));
    for (const [i, root] of options.roots.entries()) {
      for (const r of await checkRoot(tools, cluster, root, i, options, join(work, `root-${i}`))) report(r);
    }
  } finally {
    await cluster.stop();
    if (options.keep) console.log(`work directory kept: ${work}`);
    else rmSync(work, { recursive: true, force: true });
  }
  if (options.report) writeFileSync(options.report, JSON.stringify(all, null, 2));
  const failed = all.filter((r) => r.findings.length > 0);
  console.log(`${all.length - failed.length} checks passed, ${failed.length} failed, in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return failed.length === 0 ? 0 : 1;
}

// Interrupted, the gate still takes its servers down with it (exit handlers do not run on a signal's default action).
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    console.error(`verify-cluster: ${err instanceof ToolMissing ? '' : 'cannot run: '}${(err as Error).message}`);
    process.exit(2);
  },
);
