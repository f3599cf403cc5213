/**
 * The WebAssembly helpers for 64-bit multiplication, division and remainder that bson (the MongoDB roles) and long (the gRPC
 * variant's protobuf) instantiate as they load, instantiated on the first such operation instead. Both compile a small
 * module at import to have it ready for `Long`'s multiply, divide and modulo; a role never does 64-bit arithmetic on the way
 * to its first answer, and the instance cost a compiled probe 0.4-1.0 ms and 2.9 MB of RSS (the runtime's WebAssembly
 * compiler, paged in). The substitute tries the same instantiation once, when one of the three first asks for it, and falls
 * back as the package does when it fails (its JavaScript arithmetic, for a runtime without WebAssembly). Every answer is the
 * published one's (late-wasm.test.ts).
 */
interface Helper {
  package: string;
  /** The declaration of the helper and the `try` that instantiates it, as published. */
  declaration: string;
  /** The end of that `try`'s `catch`. */
  end: string;
  /** How each of Long's divide, modulo and multiply asks for it. */
  use: string;
}

/** In bson's builds (bson-buffer.ts's BSON_FILES), whose hook applies both substitutes. */
export const BSON_WASM: Helper = { package: 'bson', declaration: 'let wasm = undefined;\ntry {\n', end: '\n}\ncatch {\n}\n', use: '        if (wasm) {\n' };
/** long's CommonJS build, which @grpc/proto-loader and protobufjs require. */
export const LONG_FILE = /node_modules\/long\/umd\/index\.js$/;
export const LONG_WASM: Helper = {
  package: 'long',
  declaration: '    var wasm = null;\n    try {\n',
  end: '\n    } catch {\n      // no wasm support :(\n    }\n',
  use: '      if (wasm) {\n',
};

const USES = 3;

export function lateWasm(source: string, file: string, helper: Helper): string {
  const at = source.indexOf(helper.declaration);
  const end = at < 0 ? -1 : source.indexOf(helper.end, at);
  const uses = source.split(helper.use).length - 1;
  const found =
    at < 0 || end < 0 ? 'no declaration' : source.indexOf(helper.declaration, at + 1) >= 0 ? 'more than one declaration' : uses !== USES ? `${uses} uses` : undefined;
  if (found) {
    throw new Error(
      `${file}: expected ${helper.package}'s WebAssembly helper declared once and asked for ${USES} times, found ${found}: ` +
        'the package changed; update scripts/build/substitutes/late-wasm.ts',
    );
  }
  const [declared] = helper.declaration.split('\n') as [string];
  const indent = /^ */.exec(declared)![0];
  const instantiation = source.slice(at + helper.declaration.length, end);
  const late = [
    declared,
    `${indent}var wasmTried = false;`,
    `${indent}function lateWasm() {`,
    `${indent}  if (wasmTried) return wasm;`,
    `${indent}  wasmTried = true;`,
    `${indent}  try {`,
    instantiation,
    `${indent}  } catch {`,
    `${indent}  }`,
    `${indent}  return wasm;`,
    `${indent}}`,
    '',
  ].join('\n');
  return (source.slice(0, at) + late + source.slice(end + helper.end.length)).replaceAll(helper.use, helper.use.replace('if (wasm)', 'if (lateWasm())'));
}
