/** gRPC metadata to and from the plain header records the roles pass around. */
import { Metadata } from '@grpc/grpc-js';

// What the transport itself sets or HTTP/2 forbids: never copied into outgoing metadata, never handed to a role.
const RESERVED = new Set(['content-type', 'te', 'user-agent', 'host', 'connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'accept-encoding']);
const LEGAL_KEY = /^[0-9a-z_.-]+$/;
const LEGAL_VALUE = /^[ -~]*$/;

function carried(key: string): boolean {
  return LEGAL_KEY.test(key) && !RESERVED.has(key) && !key.startsWith('grpc-') && !key.endsWith('-bin');
}

/** The text metadata of a call, lower-cased (gRPC keys always are), first value of each key; binary (`-bin`) keys skipped. */
export function metadataToRecord(metadata: Metadata): Record<string, string> {
  const record: Record<string, string> = {};
  for (const [key, value] of Object.entries(metadata.getMap())) if (carried(key) && typeof value === 'string') record[key] = value;
  return record;
}

/** Metadata for an outgoing call. A header that metadata cannot carry (an illegal name or value) is left out, not thrown. */
export function recordToMetadata(headers: Record<string, string>): Metadata {
  const metadata = new Metadata();
  for (const [name, value] of Object.entries(headers)) {
    const key = name.toLowerCase();
    if (carried(key) && LEGAL_VALUE.test(value)) metadata.set(key, value);
  }
  return metadata;
}
