/**
 * The longest duration and the largest size any setting takes, in the config and in the environment alike. Ten minutes is far
 * past any sane timeout and well under what timers take: past 2^31-1 ms, Bun and Node fire a timer after 1 ms instead.
 */
export const MAX_DURATION_MS = 600_000;
export const MAX_BYTES = 256 * 1024 * 1024;
