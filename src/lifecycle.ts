/**
 * Where a role is in its life, and what readiness says about it. Readiness is false until every dependency is connected and
 * from the moment shutdown begins; liveness stays true throughout, because a draining pod must not be restarted.
 */
export type Phase = 'starting' | 'serving' | 'draining';

export interface Dependency {
  name: string;
  isReady(): boolean;
}

export interface ReadinessReport {
  ready: boolean;
  phase: Phase;
  dependencies: Record<string, boolean>;
}

export class Lifecycle {
  phase: Phase = 'starting';

  constructor(private readonly dependencies: Dependency[]) {}

  readiness(): ReadinessReport {
    const dependencies: Record<string, boolean> = {};
    let allUp = true;
    for (const d of this.dependencies) {
      const up = d.isReady();
      dependencies[d.name] = up;
      allUp &&= up;
    }
    return { ready: this.phase === 'serving' && allUp, phase: this.phase, dependencies };
  }
}
