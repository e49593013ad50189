/**
 * The Phoenix V2 serializer (protocol.md §1.2–1.3): JSON array frames and
 * binary push frames. Decoding never throws; malformed input is a value.
 */

/** A decoded client frame. `payload` is a plain object, or bytes for binary pushes. */
export interface Frame {
  readonly joinRef: string | null;
  readonly ref: string | null;
  readonly topic: string;
  readonly event: string;
  readonly payload: Record<string, unknown> | Buffer;
}

/** Why a frame could not be decoded, with whatever could be read of it. */
export interface MalformedFrame {
  readonly malformed: string;
  readonly ref?: string;
  readonly topic?: string;
  readonly joinRef?: string | null;
}

const BINARY_PUSH = 0;
const BINARY_HEADER = 5;

export function isMalformed(f: Frame | MalformedFrame): f is MalformedFrame {
  return (f as MalformedFrame).malformed !== undefined;
}

/** An object that is not null and not an array: a JSON object as decoded from a frame. */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Decodes a text frame `[join_ref, ref, topic, event, payload]`.
 *
 * @example
 * decodeText('[null,"1","phoenix","heartbeat",{}]')
 */
export function decodeText(text: string): Frame | MalformedFrame {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { malformed: 'frame is not JSON' };
  }
  if (!Array.isArray(parsed)) return { malformed: 'frame is not an array' };
  const [joinRef, ref, topic, event, payload] = parsed as unknown[];
  const partial = {
    ...(typeof ref === 'string' ? { ref } : {}),
    ...(typeof topic === 'string' ? { topic } : {}),
    ...(joinRef === null || typeof joinRef === 'string' ? { joinRef } : {}),
  };
  if (parsed.length !== 5) return { malformed: 'frame must have 5 elements', ...partial };
  if (joinRef !== null && typeof joinRef !== 'string') return { malformed: 'join_ref must be a string or null', ...partial };
  if (ref !== null && typeof ref !== 'string') return { malformed: 'ref must be a string or null', ...partial };
  if (typeof topic !== 'string' || topic.length === 0) return { malformed: 'topic must be a non-empty string', ...partial };
  if (typeof event !== 'string' || event.length === 0) return { malformed: 'event must be a non-empty string', ...partial };
  if (!isPlainObject(payload)) return { malformed: 'payload must be an object', ...partial };
  return { joinRef, ref, topic, event, payload };
}

/**
 * Decodes a binary push: kind 0, four length bytes, the strings, then the payload.
 *
 * @example
 * decodeBinary(Buffer.from([0, 2, 2, 5, 5, ...]))
 */
export function decodeBinary(data: Buffer): Frame | MalformedFrame {
  if (data.length < BINARY_HEADER) return { malformed: 'binary frame shorter than its header' };
  if (data[0] !== BINARY_PUSH) return { malformed: `unknown binary frame kind ${data[0]}` };
  const joinRefLen = data[1] as number;
  const refLen = data[2] as number;
  const topicLen = data[3] as number;
  const eventLen = data[4] as number;
  const headerEnd = BINARY_HEADER + joinRefLen + refLen + topicLen + eventLen;
  if (data.length < headerEnd) return { malformed: 'binary frame lengths exceed the frame' };
  let at = BINARY_HEADER;
  const read = (n: number): string => {
    const s = data.toString('utf8', at, at + n);
    at += n;
    return s;
  };
  const joinRef = read(joinRefLen);
  const ref = read(refLen);
  const topic = read(topicLen);
  const event = read(eventLen);
  if (topic.length === 0 || event.length === 0) return { malformed: 'binary frame without topic or event', ref, topic };
  return { joinRef, ref, topic, event, payload: data.subarray(headerEnd) };
}

/** Encodes a server message. Pushes carry a null ref. */
export function encode(joinRef: string | null, ref: string | null, topic: string, event: string, payload: unknown): string {
  return JSON.stringify([joinRef, ref, topic, event, payload]);
}

/** Encodes a reply `{status, response}` to the frame with `ref`. */
export function encodeReply(
  joinRef: string | null,
  ref: string | null,
  topic: string,
  status: 'ok' | 'error',
  response: unknown,
): string {
  return JSON.stringify([joinRef, ref, topic, 'phx_reply', { status, response }]);
}

/** Builds a client binary push, as the official client does (used by tests and the test client). */
export function encodeBinaryPush(joinRef: string, ref: string, topic: string, event: string, payload: Uint8Array): Buffer {
  const parts = [joinRef, ref, topic, event].map((s) => Buffer.from(s, 'utf8'));
  for (const p of parts) if (p.length > 255) throw new RangeError('binary frame strings are at most 255 bytes');
  const header = Buffer.from([BINARY_PUSH, ...parts.map((p) => p.length)]);
  return Buffer.concat([header, ...parts, payload]);
}
