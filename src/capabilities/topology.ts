/** The call graph from the config, as the UI draws it: roles, who calls whom, and where greetings go. */
import { collectionName, storeTargets } from '../config/facts';
import type { PlatformConfig } from '../config/schema';

export interface Topology {
  roles: {
    id: string;
    name: string;
    upstreams: string[];
    store?: string;
    publishes?: string;
    consumes?: string;
    edge: boolean;
  }[];
  traceUiUrl?: string;
}

export function topology(config: PlatformConfig, traceUiUrl?: string): Topology {
  return {
    roles: Object.entries(config.services).map(([id, role]) => ({
      id,
      name: role.name,
      upstreams: role.upstreams,
      store: storeTargets(role).map(collectionName)[0],
      publishes: role.publish?.queue,
      consumes: role.consume?.queue,
      edge: role.edge !== undefined,
    })),
    traceUiUrl,
  };
}
