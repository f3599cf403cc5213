/**
 * Every rendered set through istioctl, offline: `validate` (each Istio object against Istio's own validation, stricter than
 * its CRD schema) and `analyze` (the semantic checks the API server cannot make: a route to a subset no DestinationRule
 * defines, a host that resolves to nothing, a regex RE2 refuses, a gateway port out of range, ...), with the overlay's
 * generated install and mesh config beside it, and the Gateway API CRDs, as the mesh would see them.
 *
 * `analyze` looks at the `default` namespace only unless told otherwise; our objects live in `dev`, so it runs with
 * --all-namespaces (the seeded-defect test proves it finds what it must). Every message counts, Info included; so does an
 * object it cannot read (it then exits 0 having analyzed nothing, or skips the object).
 */
import type { CheckResult, Finding } from '../findings';
import { runAsync } from '../processes';
import type { RenderedSet } from '../render';
import type { Tools } from '../tools';
import type { IstioInstall } from './istio-install';

/**
 * Analyzer messages accepted on purpose, each with its reason (`--suppress CODE=Kind name.namespace`). None today: a new
 * entry needs a reason a reviewer accepts.
 */
export const SUPPRESSED: { code: string; resource: string; reason: string }[] = [];

export async function checkValidate(tools: Tools, set: RenderedSet, root: string): Promise<CheckResult> {
  const result = await runAsync(tools.istioctl, ['validate', '-f', set.file]);
  const findings: Finding[] = [];
  if (result.status !== 0) {
    const items = [...result.stderr.matchAll(/^\s*\* (\w+)\/(?:[^/\s]*\/)?([^:\s]+): (.*)$/gm)];
    for (const m of items) findings.push({ object: `${m[1]}/${m[2]}`, message: m[3]! });
    if (items.length === 0) findings.push({ object: set.name, message: result.stderr.trim() || `istioctl validate exited ${result.status}` });
  }
  return { name: `istioctl validate: ${set.name}`, root, findings, summary: `${set.objects.length} objects` };
}

interface AnalyzerMessage {
  code: string;
  level: string;
  message: string;
  origin?: string;
}

export async function checkAnalyze(tools: Tools, set: RenderedSet, istio: IstioInstall, root: string): Promise<CheckResult> {
  const args = ['analyze', '--use-kube=false', '--all-namespaces', '--output', 'json', '--failure-threshold', 'Info'];
  const meshConfig = istio.meshConfig[set.overlay];
  if (meshConfig) args.push('--meshConfigFile', meshConfig);
  for (const s of SUPPRESSED) args.push('--suppress', `${s.code}=${s.resource}`);
  args.push(set.file);
  const install = istio.manifest[set.overlay];
  if (install) args.push(install);
  // The Gateway API CRDs the API server serves, so the analyzer that checks them against this Istio's minimum sees them.
  args.push(tools.gatewayApiCrds);
  const result = await runAsync(tools.istioctl, args);
  const findings: Finding[] = [];
  // An object istioctl cannot read is reported as "error processing <file>[<n>]: <reason>", the n-th document (from 0) of
  // the file: a warning after which analysis goes on without it, or, with JSON output, an error that stops the analysis.
  const unreadable = new Map<string, Finding>();
  for (const m of result.stderr.matchAll(/error processing ([^\s[]+)\[(\d+)\]: (.*?)(?: - skipping)?$/gm)) {
    const object = m[1] === set.file ? set.objects[Number(m[2])] : undefined;
    const name = object ? `${object.kind}/${object.metadata.name}` : `${m[1]}[${m[2]}]`;
    unreadable.set(name, { object: name, message: `istioctl cannot read it, so cannot analyze it: ${m[3]}` });
  }
  findings.push(...unreadable.values());
  let messages: AnalyzerMessage[] = [];
  try {
    messages = JSON.parse(result.stdout);
  } catch {
    if (unreadable.size === 0)
      findings.push({ object: set.name, message: `istioctl analyze exited ${result.status}: ${result.stderr.trim() || result.stdout.trim()}` });
  }
  for (const m of messages) {
    // origin is "Kind namespace/name"
    const origin = /^(\S+) (?:[^/\s]+\/)?(\S+)$/.exec(m.origin ?? '');
    findings.push({ object: origin ? `${origin[1]}/${origin[2]}` : m.origin ?? set.name, message: `${m.level} [${m.code}] ${m.message}` });
  }
  if (!install) findings.push({ object: set.name, message: `no generated install for ${set.overlay} to analyze beside it` });
  return {
    name: `istioctl analyze: ${set.name}`,
    root,
    findings,
    summary: `${set.objects.length} objects + the ${set.overlay} install, ${SUPPRESSED.length} suppressions`,
  };
}
