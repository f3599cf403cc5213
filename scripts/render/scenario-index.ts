/**
 * The catalogue's index, `deploy/istio/scenarios/scenarios.json`: what the scenario command and the Tiltfile read to know the
 * scenarios, their files, what each replaces (and where the shipped objects are) and what it adds. Rendered with the files,
 * so the index and the files cannot disagree; the command needs no config and no render to run.
 */
import { GENERATED_DIRS } from './layout';
import type { Flavour, Scenario } from './scenarios';

export const CATALOGUE_FILE = `${GENERATED_DIRS.scenarios}/scenarios.json`;

export type IndexedFlavour = Omit<Flavour, 'objects'>;

export interface IndexEntry {
  id: string;
  title: string;
  pairsWith?: string;
  istio: IndexedFlavour;
  gatewayApi: IndexedFlavour | { cannot: string };
}

export interface CatalogueIndex {
  scenarios: IndexEntry[];
}

const indexed = ({ objects: _objects, ...rest }: Flavour): IndexedFlavour => rest;

export function catalogueIndex(list: Scenario[]): CatalogueIndex {
  return {
    scenarios: list.map((s) => ({
      id: s.id,
      title: s.title,
      ...(s.pairsWith ? { pairsWith: s.pairsWith } : {}),
      istio: indexed(s.istio),
      gatewayApi: 'cannot' in s.gatewayApi ? s.gatewayApi : indexed(s.gatewayApi),
    })),
  };
}
