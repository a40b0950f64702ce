import { createDecipheriv, createECDH, createPublicKey, hkdfSync, randomBytes, randomUUID, type ECDH } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { call } from '../../protocol/client.js';
import type { Session } from './harness.js';

/** What a browser makes when it subscribes: a P-256 key pair and an auth secret, and the keys it hands the server. */
export function browserKeys(): { ecdh: ECDH; auth: Buffer; keys: { p256dh: string; auth: string } } {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  const auth = randomBytes(16);
  return { ecdh, auth, keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: auth.toString('base64url') } };
}

const hkdf = (ikm: Buffer, salt: Buffer, info: Buffer, length: number) => Buffer.from(hkdfSync('sha256', ikm, salt, info, length));

/**
 * Decrypts a Web Push message body as the browser would (RFC 8291 keys, RFC 8188 aes128gcm, one record): the header
 * carries the salt, the record size and the sender's public key; the plaintext ends with the delimiter 2 and padding.
 */
export function decryptPush(body: Buffer, ecdh: ECDH, auth: Buffer): string {
  const salt = body.subarray(0, 16);
  const idLength = body[20]!;
  const senderKey = body.subarray(21, 21 + idLength);
  const record = body.subarray(21 + idLength);
  if (record.length > body.readUInt32BE(16)) throw new Error('more than one record');
  const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0'), ecdh.getPublicKey(), senderKey]);
  const ikm = hkdf(ecdh.computeSecret(senderKey), auth, keyInfo, 32);
  const key = hkdf(ikm, salt, Buffer.from('Content-Encoding: aes128gcm\0'), 16);
  const nonce = hkdf(ikm, salt, Buffer.from('Content-Encoding: nonce\0'), 12);
  const decipher = createDecipheriv('aes-128-gcm', key, nonce);
  decipher.setAuthTag(record.subarray(-16));
  const plain = Buffer.concat([decipher.update(record.subarray(0, -16)), decipher.final()]);
  let end = plain.length - 1;
  while (end >= 0 && plain[end] === 0) end--;
  if (plain[end] !== 2) throw new Error('no last-record delimiter');
  return plain.subarray(0, end).toString('utf8');
}

/** Checks a VAPID Authorization header (RFC 8292) as a push service does; answers the claims of its JWT. */
export function verifyVapid(header: string | undefined, publicKey: string, audience: string): jwt.JwtPayload {
  const m = /^vapid t=([^,\s]+), ?k=([A-Za-z0-9_-]+)$/.exec(header ?? '');
  if (!m) throw new Error(`not a VAPID header: ${header}`);
  if (m[2] !== publicKey) throw new Error('another VAPID key');
  const raw = Buffer.from(publicKey, 'base64url');
  const key = createPublicKey({
    key: { kty: 'EC', crv: 'P-256', x: raw.subarray(1, 33).toString('base64url'), y: raw.subarray(33, 65).toString('base64url') },
    format: 'jwk',
  });
  return jwt.verify(m[1]!, key, { algorithms: ['ES256'], audience }) as jwt.JwtPayload;
}

/**
 * Subscribes a signed-in person's browser to Web Push, so that their notices go out by push too (nobody without a
 * phone or browser is pushed to). Where Web Push is not configured the push channel only logs: the endpoint is never called.
 */
export const subscribeBrowser = (s: Session) =>
  call(s.socket, 'push:subscribe', { endpoint: `https://push.example/${randomUUID()}`, keys: browserKeys().keys });
