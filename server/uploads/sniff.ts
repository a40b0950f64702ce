export interface Sniffed {
  kind: 'image' | 'csv';
  mime: string;
  ext: string;
}

const startsWith = (b: Buffer, bytes: number[], at = 0) => bytes.every((v, i) => b[at + i] === v);

/** Decides what a file is from its bytes alone; its name and declared type are never trusted. */
export function sniff(b: Buffer): Sniffed | null {
  if (startsWith(b, [0xff, 0xd8, 0xff])) return { kind: 'image', mime: 'image/jpeg', ext: 'jpg' };
  if (startsWith(b, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return { kind: 'image', mime: 'image/png', ext: 'png' };
  if (startsWith(b, [0x47, 0x49, 0x46, 0x38]) && (b[4] === 0x37 || b[4] === 0x39) && b[5] === 0x61) return { kind: 'image', mime: 'image/gif', ext: 'gif' };
  if (startsWith(b, [0x52, 0x49, 0x46, 0x46]) && startsWith(b, [0x57, 0x45, 0x42, 0x50], 8)) return { kind: 'image', mime: 'image/webp', ext: 'webp' };
  if (b.length > 0 && !b.includes(0)) {
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(b);
      return { kind: 'csv', mime: 'text/csv', ext: 'csv' };
    } catch {
      return null;
    }
  }
  return null;
}
