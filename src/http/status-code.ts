/**
 * `/api/status/:code`: answers with the status asked for, for staging errors through the mesh. The original panicked on a bad
 * code; here anything that is not 100-599 is a 400 with the reason.
 */
const NO_BODY = new Set([204, 205, 304]);

export function statusCode(raw: string): Response {
  const code = /^\d{3}$/.test(raw) ? Number(raw) : NaN;
  if (!(code >= 100 && code <= 599)) {
    return Response.json({ error: `status code must be a number from 100 to 599, got '${raw.slice(0, 32)}'` }, { status: 400 });
  }
  // 1xx are interim responses: HTTP has no way to end an exchange with one, so the final answer is 200 and says so
  // (what Go's net/http, which the original ran on, does today when a handler writes a 1xx).
  if (code < 200) {
    return Response.json({ status: 200, requested: code, note: '1xx is informational and cannot be a final response' });
  }
  return NO_BODY.has(code) ? new Response(null, { status: code }) : Response.json({ status: code }, { status: code });
}
