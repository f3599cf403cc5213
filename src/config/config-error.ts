/**
 * What an invalid config or environment is reported as: every problem with its file (or "environment"), the JSON path or
 * variable, and the reason. Apart from the validator, so that reporting one costs nothing of the schema at start.
 */
export interface ConfigProblem {
  file: string;
  path: string;
  reason: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: ConfigProblem[]) {
    const line = (p: ConfigProblem) => `${p.file} ${p.path || '/'}: ${p.reason}`;
    // One problem is one line (what a log shows first); several are listed one per line, all at once.
    super(
      problems.length === 1
        ? `invalid configuration: ${line(problems[0]!)}`
        : `invalid configuration (${problems.length} problems):\n${problems.map((p) => `  ${line(p)}`).join('\n')}`,
    );
    this.name = 'ConfigError';
  }
}
