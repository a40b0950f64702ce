import { createHash, randomBytes } from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { Config } from '../config.js';

const ALGORITHM = 'HS256';

export interface AccessClaims {
  sub: string;
  sid: string;
  exp: number;
}

export function signAccessToken(config: Config, userId: string, sessionId: string): { token: string; expiresAt: number } {
  // The socket's session expires with the token itself, to the second.
  const exp = Math.floor(Date.now() / 1000) + config.jwt.accessTtlS;
  const token = jwt.sign({ sid: sessionId, exp }, config.jwt.secret, {
    algorithm: ALGORITHM,
    issuer: config.jwt.issuer,
    audience: config.jwt.audience,
    subject: userId,
  });
  return { token, expiresAt: exp * 1000 };
}

/**
 * Verifies signature, expiry, issuer and audience with the algorithm pinned, so `none` and
 * public-key/HMAC confusion are refused. Returns null for any token that fails.
 */
export function verifyAccessToken(config: Config, token: string): AccessClaims | null {
  try {
    const claims = jwt.verify(token, config.jwt.secret, {
      algorithms: [ALGORITHM],
      issuer: config.jwt.issuer,
      audience: config.jwt.audience,
    });
    if (typeof claims === 'string' || typeof claims.sub !== 'string' || typeof claims.sid !== 'string' || typeof claims.exp !== 'number') return null;
    return { sub: claims.sub, sid: claims.sid, exp: claims.exp };
  } catch {
    return null;
  }
}

/** Refresh tokens are opaque; only their hash is stored. */
export function newOpaqueToken(): { token: string; hash: string } {
  const token = randomBytes(32).toString('base64url');
  return { token, hash: hashToken(token) };
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
