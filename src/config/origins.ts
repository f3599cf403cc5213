/**
 * What an entry of ALLOWED_ORIGINS (or the config's allowedOrigins) may be: `*`, or an origin exactly as a browser sends it in
 * its Origin header (scheme://host[:port], lower case, no path, no trailing slash). The edge compares origins as exact strings,
 * so an entry in any other form could never match, and is refused at start-up instead of silently disabling CORS.
 */
export function originProblem(entry: string): string | undefined {
  if (entry === '*') return undefined;
  if (!URL.canParse(entry)) return `'${entry}' is not an origin (scheme://host[:port]) or *`;
  const url = new URL(entry);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `'${entry}' is not an http or https origin`;
  if (url.origin !== entry) return `'${entry}' is not an origin as browsers send it: use '${url.origin}'`;
  return undefined;
}
