/**
 * `/api/request-echo`: the request as the edge received it, as text (what a person checks when a proxy rewrites headers).
 * The body is read up to a limit, so an echo cannot be used to make the edge buffer an unbounded upload.
 */
export async function requestEcho(request: Request, limitBytes: number): Promise<Response> {
  const tooLarge = () =>
    Response.json({ error: `request body is larger than the echo limit of ${limitBytes} bytes` }, { status: 413 });
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (declared > limitBytes) return tooLarge();
  const body = await readLimited(request, limitBytes);
  if (body === undefined) return tooLarge();
  const url = new URL(request.url);
  const lines = [`${request.method} ${url.pathname}${url.search} HTTP/1.1`];
  request.headers.forEach((value, name) => lines.push(`${name}: ${value}`));
  const text = `${lines.join('\r\n')}\r\n\r\n${new TextDecoder().decode(body)}`;
  return new Response(text, { headers: { 'content-type': 'text/plain; charset=utf-8' } });
}

/** The whole body, or undefined once it passes the limit (reading stops there). */
async function readLimited(request: Request, limitBytes: number): Promise<Uint8Array | undefined> {
  if (!request.body) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = request.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limitBytes) {
      await reader.cancel();
      return undefined;
    }
    chunks.push(value);
  }
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}
