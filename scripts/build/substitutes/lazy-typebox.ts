/**
 * TypeBox, which Elysia and exact-mirror import for validation, evaluated on first use instead of at every start. No route of
 * ours declares a schema, so a role never validates with it, yet importing Elysia evaluated TypeBox's 138 modules and
 * Elysia's own type system (its `t`, formats and custom kinds) before the first line of the service ran; `new Elysia()`
 * built an empty TypeBox module, and composing every route built the coercion schemas for a body it does not have.
 * Measured compiled (README, "Performance").
 *
 * In Elysia's files outside its type system, and in exact-mirror's, each name imported from TypeBox or from Elysia's
 * `type-system/` becomes a lazy value (lazy-value.ts; one group for all of TypeBox) over a `require` of the same module,
 * which the bundler splits into chunks loaded when the require first runs; TypeBox's kind symbols are the registry symbols
 * themselves (`Symbol.for`, the same values). The empty module of `new Elysia()` and the four coercion lists are made lazy
 * the same way. A schema, if a route ever declares one, loads all of it on first use: lazy-typebox.test.ts runs an app with
 * schemas bundled both ways and compares every answer, and runs the binary's roles bundled with this plugin checking that
 * no TypeBox module is evaluated.
 *
 * Every rewrite must find what it expects, exactly, or the build fails naming the file (a new Elysia version).
 */
import { dirname, join, relative } from 'node:path';
import type { Shape } from './lazy-value';

/** The files rewritten: Elysia's (its type system excepted, which is what loads on first use) and exact-mirror's ESM index. */
export const TYPEBOX_IMPORTERS = /node_modules\/(elysia\/dist\/(?!type-system\/).+\.mjs|exact-mirror\/dist\/index\.mjs)$/;

const TYPEBOX = dirname(require.resolve('@sinclair/typebox/package.json'));
const LAZY_VALUE = join(import.meta.dir, 'lazy-value.ts');

/** TypeBox's kind symbols (its type/symbols/symbols.mjs): registry symbols, so `Symbol.for` gives the very same values. */
export const TYPEBOX_SYMBOLS: Record<string, string> = {
  Kind: 'TypeBox.Kind',
  Hint: 'TypeBox.Hint',
  OptionalKind: 'TypeBox.Optional',
  ReadonlyKind: 'TypeBox.Readonly',
  TransformKind: 'TypeBox.Transform',
};

/** The ESM file a TypeBox specifier names (`@sinclair/typebox`, `@sinclair/typebox/compiler`, ...). */
function typeboxFile(specifier: string): string {
  const sub = specifier.slice('@sinclair/typebox'.length).replace(/^\//, '');
  return join(TYPEBOX, 'build', 'esm', sub, 'index.mjs');
}

/** What each module exports, by name: an object, a function (classes included) or an array, as lazyValue's `shape`. */
async function shapes(file: string): Promise<Record<string, Shape>> {
  const module = (await import(file)) as Record<string, unknown>;
  return Object.fromEntries(
    Object.entries(module).map(([name, value]) => [name, typeof value === 'function' ? 'function' : Array.isArray(value) ? 'array' : 'object']),
  );
}

/** Elysia's expressions that build TypeBox values as it starts, each made a lazy value (see the header). */
const LAZY_EXPRESSIONS: Record<string, { text: string; shape: Shape }[]> = {
  'elysia/dist/index.mjs': [{ text: 't.Module({})', shape: 'object' }],
};

/** Elysia's functions whose result is built of TypeBox values: `const name = () => (_name || (_name = [...]), _name)`. */
const LAZY_RESULTS: Record<string, { name: string; shape: Shape }[]> = {
  'elysia/dist/replace-schema.mjs': ['stringToStructureCoercions', 'queryCoercions', 'coercePrimitiveRoot', 'coerceFormData'].map((name) => ({ name, shape: 'array' })),
};

function once(source: string, file: string, text: string): void {
  const found = source.split(text).length - 1;
  if (found !== 1) throw changed(file, `one ${JSON.stringify(text)}, found ${found}`);
}

function lazyExpressions(source: string, file: string): string {
  for (const { text, shape } of LAZY_EXPRESSIONS[file] ?? []) {
    once(source, file, text);
    source = source.replace(text, `typeboxValue(() => ${text}, "${shape}")`);
  }
  for (const { name, shape } of LAZY_RESULTS[file] ?? []) {
    const declaration = `const ${name} = () =>`;
    once(source, file, declaration);
    // One lazy value, as the function returns one list: made when it is first read.
    source = source.replace(declaration, `let lazy_${name};\nconst ${name} = () => (lazy_${name} ??= typeboxValue(() => made_${name}(), "${shape}"));\nconst made_${name} = () =>`);
  }
  return source;
}

const changed = (file: string, what: string) =>
  new Error(`${file}: expected ${what}: the package changed; update scripts/build/substitutes/lazy-typebox.ts`);

const IMPORT = /^import\s*\{([^}]*)\}\s*from\s*"([^"]+)";\n/gm;

export async function deferTypebox(source: string, path: string): Promise<string> {
  const file = path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
  const bindings: string[] = [];
  let rewritten = source;
  for (const [statement, names, specifier] of source.matchAll(IMPORT)) {
    const typebox = specifier === '@sinclair/typebox' || specifier!.startsWith('@sinclair/typebox/');
    const target = typebox ? typeboxFile(specifier!) : join(dirname(path), specifier!);
    if (!typebox && !relative(elysiaDist(path), target).startsWith('type-system/')) continue;
    const exported = await shapes(target);
    for (const name of names!.split(',').map((n) => n.trim()).filter(Boolean)) {
      const [imported, local = imported] = name.split(/\s+as\s+/) as [string, string?];
      if (typebox && TYPEBOX_SYMBOLS[imported]) {
        bindings.push(`const ${local} = Symbol.for("${TYPEBOX_SYMBOLS[imported]}");`);
        continue;
      }
      const shape = exported[imported];
      if (!shape) throw changed(file, `${specifier} to export ${imported}`);
      bindings.push(`const ${local} = typeboxValue(() => require(${JSON.stringify(target)}).${imported}, "${shape}");`);
    }
    rewritten = rewritten.replace(statement, '');
  }
  rewritten = lazyExpressions(rewritten, file);
  if (/from\s*"@sinclair\/typebox|"\.\.?\/(?:.*\/)?type-system\//.test(rewritten)) throw changed(file, 'only `import { ... } from` TypeBox and Elysia\'s type system');
  if (rewritten === source) return source;
  // Hoisted as the imports were: the values load nothing until used, so declaring them first changes no order.
  return `import { typeboxValue } from ${JSON.stringify(LAZY_VALUE)};\n${bindings.join('\n')}\n${rewritten}`;
}

/** Elysia's dist directory, for one of its files (exact-mirror's own directory: it imports no type system of Elysia's). */
function elysiaDist(path: string): string {
  const at = path.indexOf('elysia/dist/');
  return at < 0 ? dirname(path) : path.slice(0, at + 'elysia/dist/'.length);
}
