/**
 * JSON for stored values (retained MQTT 5 properties, host overrides) that keeps Buffers:
 * MQTT 5 Correlation Data and binary user values are Buffers, which plain JSON would turn into
 * {type:'Buffer',data:[...]} and never back. A Buffer is written as {"$buffer": "<base64>"}.
 * Both store implementations use it, so they agree on what survives a round trip.
 */
const TAG = '$buffer';

export function encodeJson(value: unknown): string {
  return JSON.stringify(value, function (this: Record<string, unknown>, key: string, v: unknown) {
    const original = this[key];
    if (Buffer.isBuffer(original) || original instanceof Uint8Array) {
      return { [TAG]: Buffer.from(original as Uint8Array).toString('base64') };
    }
    return v;
  });
}

export function decodeJson<T = unknown>(text: string): T {
  return JSON.parse(text, (_key, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const keys = Object.keys(v);
      const b64 = (v as Record<string, unknown>)[TAG];
      if (keys.length === 1 && typeof b64 === 'string') return Buffer.from(b64, 'base64');
    }
    return v;
  }) as T;
}

/** Deep copy through the stored representation (what the memory store hands in and out). */
export function cloneJson<T>(value: T): T {
  return decodeJson<T>(encodeJson(value));
}

/** Order of SQLite's BINARY collation on UTF-8 text (code point order), for in-memory sorting. */
export function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
