/** What ends a start that cannot work because of what the operator configured: each exits 78 with its one-line reason. */

/** The port is taken: another instance runs, or PORT collides. */
export class PortInUseError extends Error {
  override name = 'PortInUseError';
  constructor(
    readonly port: number,
    readonly hostname: string,
  ) {
    super(`port ${port} on ${hostname} is already in use (by another program, or another instance of this one)`);
  }
}

/** Any other start-up refusal with a reason the operator can act on (a missing --binary, a fetch cap too small to share). */
export class StartupConfigError extends Error {
  override name = 'StartupConfigError';
}

/** True when a listen error means the port is taken, whichever runtime raised it. */
export function isAddressInUse(err: unknown): boolean {
  return (err as NodeJS.ErrnoException)?.code === 'EADDRINUSE' || /in use/i.test(String((err as Error)?.message));
}
