/**
 * Drives load from the driver's side: starts bench/load-generator.ts as a child process, waits for it, returns its result.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { LoadResult, LoadSpec } from './load-generator';

const GENERATOR = join(import.meta.dir, 'load-generator.ts');

/** The Bun that runs the bench also runs the generator (its fetch is what the generator is built on). */
function bunExecutable(): string {
  return (globalThis as { Bun?: unknown }).Bun ? process.execPath : 'bun';
}

export function generateLoad(spec: LoadSpec): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(bunExecutable(), [GENERATOR, JSON.stringify(spec)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      const last = out.trim().split('\n').pop() ?? '';
      try {
        if (code !== 0) throw new Error(`exit code ${code}`);
        resolve(JSON.parse(last) as LoadResult);
      } catch (e) {
        reject(new Error(`load generator failed against ${spec.url} (${(e as Error).message}):\n${err.slice(-2000)}`));
      }
    });
  });
}
