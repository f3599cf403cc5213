/**
 * The streams the MongoDB driver's own log writes to, looked up at its first line instead of when a client is built. The
 * driver logs nothing unless MONGODB_LOG_* asks it to, but every MongoClient resolves where it would write, and by default
 * that reads `process.stderr`: Bun builds the stream on that first read, with node:fs and its stream classes, about 1 ms of
 * a MongoDB role's start (compiled, role C against FerretDB, in alternation). The substitute gives the driver's
 * createStdioLogger a stand-in whose `write` is the stream's, read when the driver writes (there and where a log whose
 * destination failed falls back to stderr); what the driver decides (MONGODB_LOG_PATH and the mongodbLogPath option, which
 * one wins, `mongodbLogPathIsStdErr`) is unchanged.
 */

export const DRIVER_LOGGER_FILE = 'mongodb/lib/mongo_logger.js';

/** How often the published file hands each stream to createStdioLogger: the build fails if that changes. */
const PUBLISHED_USES = { stderr: 4, stdout: 2 } as const;

export function lateLogStreams(source: string, path: string): string {
  let out = source;
  for (const [stream, uses] of Object.entries(PUBLISHED_USES)) {
    const published = `createStdioLogger(process.${stream})`;
    const found = out.split(published).length - 1;
    if (found !== uses) {
      throw new Error(
        `${path}: expected ${published} ${uses} times, found ${found}: the driver changed; update scripts/build/substitutes/driver-log-streams.ts`,
      );
    }
    out = out.replaceAll(published, `createStdioLogger({ write: (...args) => process.${stream}.write(...args) })`);
  }
  return out;
}
