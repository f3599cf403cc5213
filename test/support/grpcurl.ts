/** grpcurl, the gRPC command-line client (built by scripts/ci/install-grpcurl.sh): a real client for reflection, calls and health. */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pinnedVersion, requireTool, toolsBin, type FoundTool } from './tools';

export function grpcurlBinary(): FoundTool {
  const want = pinnedVersion('GRPCURL_VERSION');
  return requireTool({
    command: 'grpcurl',
    envVar: 'GRPCURL_BIN',
    candidates: [join(toolsBin(), 'grpcurl')],
    versionArgs: ['-version'],
    parseVersion: (out) => /grpcurl (v[\d.]+)/.exec(out)?.[1],
    want,
    accepts: (version) => version === want,
    elsewhere: `\`go install github.com/fullstorydev/grpcurl/cmd/grpcurl@${want}\``,
    install: 'run `bash scripts/ci/install-grpcurl.sh`',
  });
}

// Never execFileSync against a server in this process: it would block the event loop that has to answer.
const run = promisify(execFile);

/** Runs grpcurl; resolves with what it printed, and its exit code (grpcurl exits non-zero for a call that fails). */
export async function grpcurl(...args: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await run(grpcurlBinary().path, args, { encoding: 'utf8', timeout: 15_000 });
    return { code: 0, out: `${stdout}${stderr}` };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}
