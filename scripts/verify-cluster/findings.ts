/**
 * What a check reports: one result per check, with a finding per refused or suspicious object, each naming the object
 * (`Kind/name`) and quoting the tool. The gate prints one line per check and a line per finding under it.
 */

export interface Finding {
  /** `Kind/name` of the object the tool refused or flagged, or the file when the tool names no object (a Tiltfile). */
  object: string;
  message: string;
}

export interface CheckResult {
  /** Which tool proved what, e.g. `kube-apiserver: server-side apply deploy/gke`. */
  name: string;
  /** The tree checked (the repository, or a copy in the seeded-defect test). */
  root: string;
  findings: Finding[];
  /** A short count of what was checked, for the ok line. */
  summary: string;
}

export function format(result: CheckResult, label = ''): string {
  const prefix = label ? `[${label}] ` : '';
  if (result.findings.length === 0) return `ok   ${prefix}${result.name} (${result.summary})`;
  const lines = [`FAIL ${prefix}${result.name}: ${result.findings.length} finding(s) (${result.summary})`];
  for (const f of result.findings) lines.push(`       ${f.object}: ${f.message.replace(/\s*\n\s*/g, ' | ')}`);
  return lines.join('\n');
}
