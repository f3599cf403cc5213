/** The call graph from the config, as the UI draws it: roles, their versions, who calls whom, and where greetings go. */
import { collectionName, roleVersions, storeTargets } from '../config/facts';
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
    /** Every version the config declares, the default first: the UI's tally counts answers by these. */
    versions: string[];
  }[];
  traceUiUrl?: string;
  /** The header the mesh's dark launches match on, which the UI's "user" field sends. */
  routingHeader?: string;
}

export function topology(config: PlatformConfig, traceUiUrl?: string, routingHeader?: string): Topology {
  return {
    roles: Object.entries(config.services).map(([id, role]) => ({
      id,
      name: role.name,
      versions: roleVersions(config, id),
      upstreams: role.upstreams,
      store: storeTargets(role).map(collectionName)[0],
      publishes: role.publish?.queue,
      consumes: role.consume?.queue,
      edge: role.edge !== undefined,
    })),
    traceUiUrl,
    routingHeader,
  };
}
