import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jwt from 'jsonwebtoken';
import pg from 'pg';
import { io } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, onTestFinished, test } from 'vitest';
import { call, type LiliumSocket } from '../protocol/client.js';
import { migrations } from '../db/migrations/index.js';
import { startHarness } from './support/harness.js';
import { DEMO_PASSWORD, TEST_DB_PREFIX, TEST_PG_URL, dbUrl } from './support/env.js';
import { spawnServer, type Spawned } from './support/spawn.js';

/** The development secret every `npm start` used to sign with; it is published in the repository's history. */
const PUBLISHED_DEV_SECRET = 'lilium-development-secret-do-not-use-in-production';

function forge(accessToken: string, secret: string): string {
  const claims = jwt.decode(accessToken) as { sub: string; sid: string; exp: number };
  return jwt.sign({ sid: claims.sid, exp: claims.exp }, secret, { algorithm: 'HS256', issuer: 'lilium', audience: 'lilium-apps', subject: claims.sub });
}

function connect(url: string, token: string): Promise<LiliumSocket> {
  const socket: LiliumSocket = io(url, { transports: ['websocket'], reconnection: false, forceNew: true, auth: { token } });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (err) => {
      socket.close();
      reject(err);
    });
  });
}

describe('the development JWT secret', () => {
  test('is random per data directory: the published one is refused, and a restart on the same directory keeps sessions', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lilium-dev-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const options = { database: 'pglite' as const, env: { PGLITE_DIR: dir, JWT_SECRET: '' } };
    const h = await startHarness(options);
    let token: string;
    try {
      token = (await h.login('shop1@demo.lilium')).accessToken;
      await expect(connect(h.url, forge(token, PUBLISHED_DEV_SECRET))).rejects.toMatchObject({
        data: { code: 'UNAUTHENTICATED', message: 'invalid or expired token' },
      });
    } finally {
      await h.close();
    }
    const again = await startHarness(options);
    try {
      const socket = await connect(again.url, token);
      expect((await call(socket, 'me:get', {})).email).toBe('shop1@demo.lilium');
      socket.close();
    } finally {
      await again.close();
    }
  }, 120_000);
});

describe('nodes starting together on one empty database', () => {
  const admin = new pg.Client({ connectionString: TEST_PG_URL });
  const name = `${TEST_DB_PREFIX}${randomBytes(5).toString('hex')}`;
  const nodes: Spawned[] = [];
  beforeAll(async () => {
    await admin.connect();
    await admin.query(`CREATE DATABASE "${name}"`);
  });
  afterAll(async () => {
    for (const p of nodes) p.child.kill('SIGTERM');
    await Promise.all(nodes.map((p) => p.exited));
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.end();
  });

  test('all come up, the schema is migrated and seeded once, and they share one development secret', async () => {
    // Development mode, as `npm run cluster` runs them: no JWT_SECRET, demo data seeded.
    const env = { DATABASE_URL: dbUrl(name), HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'warn', BCRYPT_COST: '4' };
    for (let i = 0; i < 3; i++) nodes.push(spawnServer(env));
    const urls = await Promise.all(nodes.map(async (p) => (await p.waitFor(/listening on (http:\S+)/, 90_000))[1]!));

    const db = new pg.Client({ connectionString: dbUrl(name) });
    await db.connect();
    try {
      const ran = await db.query<{ name: string }>('SELECT name FROM migrations ORDER BY id');
      expect(ran.rows.map((r) => r.name)).toEqual(migrations.map((m) => m.name));
      const zones = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM zones');
      expect(zones.rows).toEqual([{ n: 4 }]);
    } finally {
      await db.end();
    }

    const socket: LiliumSocket = io(urls[0], { transports: ['websocket'], reconnection: false, forceNew: true });
    const { accessToken } = await call(socket, 'auth:login', { app: 'mobile', login: 'shop1@demo.lilium', password: DEMO_PASSWORD });
    socket.close();
    for (const url of urls) {
      const other = await connect(url, accessToken);
      expect((await call(other, 'me:get', {})).email).toBe('shop1@demo.lilium');
      other.close();
    }
  }, 120_000);
});
