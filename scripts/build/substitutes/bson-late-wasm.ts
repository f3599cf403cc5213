/**
 * bson's WebAssembly helper for 64-bit multiplication, division and remainder (Long's), instantiated on the first such
 * operation instead of at import. bson compiles and instantiates it as it loads, to have it ready for `Long.multiply`,
 * `divide` and `modulo`; a store never does 64-bit arithmetic on the way to its first answer, and the instance cost a compiled
 * probe 0.4-1.0 ms and 2.9 MB of RSS (the runtime's WebAssembly compiler, paged in). The substitute tries the same
 * instantiation once, when one of the three first asks for it, and falls back as bson does when it fails (its JavaScript
 * arithmetic, for a runtime without WebAssembly). Every answer is the published one's (bson-late-wasm.test.ts).
 */

const DECLARATION = 'let wasm = undefined;\ntry {\n    wasm = new WebAssembly.Instance(';
const DECLARATION_END = ')), {}).exports;\n}\ncatch {\n}\n';
const USE = '        if (wasm) {\n';
/** Long's divide, modulo and multiply each ask once. */
const USES = 3;

export function lateBsonWasm(source: string, file: string): string {
  const at = source.indexOf(DECLARATION);
  const end = at < 0 ? -1 : source.indexOf(DECLARATION_END, at);
  const uses = source.split(USE).length - 1;
  if (at < 0 || source.indexOf(DECLARATION, at + 1) >= 0 || end < 0 || uses !== USES) {
    throw new Error(
      `${file}: expected bson's WebAssembly helper declared once and asked for ${USES} times, found ${at < 0 ? 'no declaration' : `${uses} uses`}: ` +
        'the package changed; update scripts/build/substitutes/bson-late-wasm.ts',
    );
  }
  const instantiation = source.slice(at + 'let wasm = undefined;\ntry {\n'.length, end + ')), {}).exports;'.length);
  const late = `let wasm = undefined;
let wasmTried = false;
function lateWasm() {
    if (wasmTried) return wasm;
    wasmTried = true;
    try {
    ${instantiation}
    }
    catch {
    }
    return wasm;
}
`;
  return (source.slice(0, at) + late + source.slice(end + DECLARATION_END.length)).replaceAll(USE, '        if (lateWasm()) {\n');
}
