/**
 * Where a role is in its life, and what readiness says about it. Readiness is false until every dependency is connected and
 * from the moment shutdown begins; liveness stays true throughout, because a draining pod must not be restarted.
 */
export type Phase = 'starting' | 'serving' | 'draining';

export interface Dependency {
  name: string;
  isReady(): boolean;
  notReadyReason?(): string | undefined;
}

export interface ReadinessReport {
  ready: boolean;
  phase: Phase;
  dependencies: Record<string, boolean>;
  /** Why each dependency that is down is down, when it says. */
  reasons?: Record<string, string>;
}

export class Lifecycle {
  phase: Phase = 'starting';

  constructor(private readonly dependencies: Dependency[]) {}

  readiness(): ReadinessReport {
    const dependencies: Record<string, boolean> = {};
    let reasons: Record<string, string> | undefined;
    let allUp = true;
    for (const d of this.dependencies) {
      const up = d.isReady();
      dependencies[d.name] = up;
      allUp &&= up;
      const reason = up ? undefined : d.notReadyReason?.();
      if (reason) (reasons ??= {})[d.name] = reason;
    }
    const report: ReadinessReport = { ready: this.phase === 'serving' && allUp, phase: this.phase, dependencies };
    if (reasons) report.reasons = reasons;
    return report;
  }
}
