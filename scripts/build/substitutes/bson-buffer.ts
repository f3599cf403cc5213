/**
 * bson's serialization buffer, allocated when a document needs it rather than at import. bson allocates 17 MB at import
 * (any document up to the server's 16 MB limit fits) and serializes every document into it before copying the bytes out. The
 * pages are never touched, but the runtime's collector counts the 17 MB as memory the heap holds: in a MongoDB role, it made
 * the collection that ran during the first answer a full one over 40 MB instead of a young-generation one over 8 MB
 * (`BUN_JSC_logGC=1`), 4-7 ms against 1-1.5 ms, measured compiled.
 *
 * The substitute starts with a 1 MB buffer and keeps count of the one bson would hold (`publishedSize`: 17 MB, or the largest
 * size asked for since). A document that does not fit is serialized again into a buffer of that size. Serializing into too
 * small a buffer either throws a RangeError (a typed array write past its end, a string written at an offset past it) or
 * ends within the last 4 bytes of the buffer or past them: a byte written past the end is dropped while the index counts it,
 * and a string cut short at the end stops before a character that does not fit whole (at most 3 bytes short, UTF-8's longest
 * being 4) and still ends with its NUL and its document's. So a document counts as fitting only when it ends 4 or more bytes
 * before the end; one that fits more tightly is serialized again too, harmlessly.
 * Every answer, the bytes and the errors, is the published one's (bson-buffer.test.ts compares them, across the boundary too).
 */

/** What the published file says, in both of its builds (bson.cjs, which the driver requires, and bson.node.mjs). */
const PUBLISHED = `const MAXSIZE = 1024 * 1024 * 17;
let buffer = ByteUtils.allocate(MAXSIZE);
function setInternalBufferSize(size) {
    if (buffer.length < size) {
        buffer = ByteUtils.allocate(size);
    }
}
function serialize(object, options = {}) {
    const checkKeys = typeof options.checkKeys === 'boolean' ? options.checkKeys : false;
    const serializeFunctions = typeof options.serializeFunctions === 'boolean' ? options.serializeFunctions : false;
    const ignoreUndefined = typeof options.ignoreUndefined === 'boolean' ? options.ignoreUndefined : true;
    const minInternalBufferSize = typeof options.minInternalBufferSize === 'number' ? options.minInternalBufferSize : MAXSIZE;
    if (buffer.length < minInternalBufferSize) {
        buffer = ByteUtils.allocate(minInternalBufferSize);
    }
    const serializationIndex = serializeInto(buffer, object, checkKeys, 0, serializeFunctions, ignoreUndefined, null);
    const finishedBuffer = ByteUtils.allocateUnsafe(serializationIndex);
    finishedBuffer.set(buffer.subarray(0, serializationIndex), 0);
    return finishedBuffer;
}
function serializeWithBufferAndIndex(object, finalBuffer, options = {}) {
    const checkKeys = typeof options.checkKeys === 'boolean' ? options.checkKeys : false;
    const serializeFunctions = typeof options.serializeFunctions === 'boolean' ? options.serializeFunctions : false;
    const ignoreUndefined = typeof options.ignoreUndefined === 'boolean' ? options.ignoreUndefined : true;
    const startIndex = typeof options.index === 'number' ? options.index : 0;
    const serializationIndex = serializeInto(buffer, object, checkKeys, 0, serializeFunctions, ignoreUndefined, null);`;

/** The first buffer's size: a greeting is about 200 bytes, a batch's command well under this. */
export const FIRST_BUFFER_BYTES = 1024 * 1024;

const SERIALIZE_INTO = 'serializeInto(buffer, object, checkKeys, 0, serializeFunctions, ignoreUndefined, null)';

/** The substitute: the published text with these replaced, each found once in it. */
const EDITS: [string, string][] = [
  [
    'let buffer = ByteUtils.allocate(MAXSIZE);\n',
    `let buffer = ByteUtils.allocate(${FIRST_BUFFER_BYTES});
let publishedSize = MAXSIZE;
function serializeFits(object, checkKeys, serializeFunctions, ignoreUndefined) {
    let end;
    try {
        end = ${SERIALIZE_INTO};
    } catch (err) {
        if (err instanceof RangeError) return -1;
        throw err;
    }
    return end + 4 > buffer.length ? -1 : end;
}
function serializeAtLeast(size, object, checkKeys, serializeFunctions, ignoreUndefined) {
    if (publishedSize < size) {
        publishedSize = size;
    }
    if (buffer.length < publishedSize) {
        const end = serializeFits(object, checkKeys, serializeFunctions, ignoreUndefined);
        if (end >= 0) return end;
        buffer = ByteUtils.allocate(publishedSize);
    }
    return ${SERIALIZE_INTO};
}
`,
  ],
  ['function setInternalBufferSize(size) {\n', 'function setInternalBufferSize(size) {\n    if (publishedSize < size) {\n        publishedSize = size;\n    }\n'],
  [
    `    if (buffer.length < minInternalBufferSize) {
        buffer = ByteUtils.allocate(minInternalBufferSize);
    }
    const serializationIndex = ${SERIALIZE_INTO};`,
    '    const serializationIndex = serializeAtLeast(minInternalBufferSize, object, checkKeys, serializeFunctions, ignoreUndefined);',
  ],
  [
    `options.index : 0;
    const serializationIndex = ${SERIALIZE_INTO};`,
    'options.index : 0;\n    const serializationIndex = serializeAtLeast(MAXSIZE, object, checkKeys, serializeFunctions, ignoreUndefined);',
  ],
];

const SUBSTITUTE = EDITS.reduce((text, [from, to]) => {
  if (text.split(from).length !== 2) throw new Error(`bson-buffer.ts: an edit's text is not in the published text once: ${JSON.stringify(from.slice(0, 60))}`);
  return text.replace(from, () => to);
}, PUBLISHED);

/** bson's builds that hold the buffer. */
export const BSON_FILES = /node_modules\/bson\/lib\/bson\.(cjs|node\.mjs)$/;

export function lateBsonBuffer(source: string, file: string): string {
  const at = source.indexOf(PUBLISHED);
  if (at < 0 || source.indexOf(PUBLISHED, at + 1) >= 0) {
    throw new Error(
      `${file}: expected bson's serialization buffer and serialize() as bson 7 publishes them, found ${at < 0 ? 'none' : 'several'}: ` +
        'the package changed; update scripts/build/substitutes/bson-buffer.ts',
    );
  }
  return source.slice(0, at) + SUBSTITUTE + source.slice(at + PUBLISHED.length);
}
