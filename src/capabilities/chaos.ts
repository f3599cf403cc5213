/**
 * Staged failure without Istio: added latency and an error rate per role, both off by default. They apply to the greeting
 * route only, so probes and metrics keep working while a role misbehaves (an outlier detector needs a live, sick pod).
 */
export interface Chaos {
  latencyMs: number;
  errorRate: number;
}

export async function injectChaos(chaos: Chaos, random: () => number = Math.random): Promise<string | undefined> {
  if (chaos.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, chaos.latencyMs));
  if (chaos.errorRate > 0 && random() < chaos.errorRate) return `chaos: injected error (rate ${chaos.errorRate})`;
  return undefined;
}
