/**
 * Connection URLs carry credentials (mongodb://user:secret@host, amqp://user:secret@host). Anything that reaches a log line or an
 * error message goes through here first, so a password never leaves the process.
 */

const MASK = '***';

/** The URL with its password (and any secret-looking query parameter) replaced by ***; unparseable input is masked whole. */
export function redactUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return MASK;
  }
  if (parsed.password) parsed.password = MASK;
  for (const key of [...parsed.searchParams.keys()])
    if (/pass|secret|token|key/i.test(key)) parsed.searchParams.set(key, MASK);
  // URL escapes the mask inside userinfo; put it back so the log reads naturally.
  return parsed.toString().replaceAll(encodeURIComponent(MASK), MASK);
}

/** `text` with every occurrence of the URL's password (raw or percent-encoded) replaced by ***. */
export function redactSecrets(text: string, url: string): string {
  let password = '';
  try {
    password = new URL(url).password;
  } catch {
    return text.replaceAll(url, MASK);
  }
  if (!password) return text;
  let out = text.replaceAll(password, MASK);
  const decoded = safeDecode(password);
  if (decoded && decoded !== password) out = out.replaceAll(decoded, MASK);
  return out;
}

function safeDecode(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}
