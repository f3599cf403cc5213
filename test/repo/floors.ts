/** The floors of src/, which test/repo/layers.test.ts enforces on imports and readme-map.test.ts on the README's map. */
/** Lowest first. Same number: siblings, which must not import each other. */
export const FLOORS: [RegExp, number, string][] = [
  [/^config\//, 0, 'config'],
  [/^(greeting|ui\/)/, 1, 'domain'],
  [/^telemetry\//, 1, 'telemetry'],
  [/^transport\//, 2, 'transport'],
  [/^backends\//, 2, 'backends'],
  [/^capabilities\//, 3, 'capabilities'],
  [/^serving\//, 4, 'serving'],
  [/^http\//, 5, 'http'],
  [/^grpc\//, 5, 'grpc'],
  [/^role/, 6, 'role'],
  [/^platform\//, 7, 'platform'],
  [/^(service|service\.node|platform)\.ts$/, 8, 'entry points'],
];

export function floorOf(path: string): { floor: number; room: string } {
  for (const [pattern, floor, room] of FLOORS) if (pattern.test(path)) return { floor, room };
  throw new Error(`src/${path} is on no floor: add it to FLOORS in test/repo/floors.ts`);
}

