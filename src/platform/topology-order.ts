/** Roles ordered so that every role comes after all of its upstreams (the config has no cycles: it is validated). */
import type { PlatformConfig } from '../config/schema';

export function upstreamsFirst(config: PlatformConfig): string[] {
  const order: string[] = [];
  const seen = new Set<string>();
  const visit = (id: string) => {
    if (seen.has(id)) return;
    seen.add(id);
    for (const up of config.services[id]!.upstreams) visit(up);
    order.push(id);
  };
  for (const id of Object.keys(config.services)) visit(id);
  return order;
}
