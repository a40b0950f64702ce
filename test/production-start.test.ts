import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { io } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { call, RpcError, type LiliumSocket } from '../protocol/client.js';
import type { App } from '../protocol/common.js';
import { DEMO_PASSWORD, TEMPLATE_DB, TEST_DB_PREFIX, TEST_PG_URL, TEST_RUN, dbUrl } from './support/env.js';
import { buildServer, spawnBuiltServer, spawnDbCli, type Spawned } from './support/spawn.js';

// Every test starts node processes (a few seconds each on a busy machine).
vi.setConfig({ testTimeout: 120_000 });

// Production runs the compiled server (`npm start`, the image's CMD), so these nodes are that build.
const build = join(new URL('..', import.meta.url).pathname, `node_modules/.cache/lilium-build-${TEST_RUN}`);
const spawnServer = (env: Record<string, string>) => spawnBuiltServer(build, env);

const admin = new pg.Client({ connectionString: TEST_PG_URL });
const created: string[] = [];
const running: Spawned[] = [];
const dir = mkdtempSync(join(tmpdir(), 'lilium-prod-'));

beforeAll(async () => {
  await admin.connect();
  await buildServer(build);
}, 180_000);
afterAll(async () => {
  for (const p of running) p.child.kill('SIGTERM');
  await Promise.all(running.map((p) => p.exited));
  for (const name of created) await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await admin.end();
  rmSync(dir, { recursive: true, force: true });
  rmSync(build, { recursive: true, force: true });
});

/** A fresh database: empty, or a copy of the seeded template (demo logins with the demo password). */
async function database(from: 'empty' | 'demo'): Promise<string> {
  const name = `${TEST_DB_PREFIX}${randomBytes(5).toString('hex')}`;
  await admin.query(from === 'empty' ? `CREATE DATABASE "${name}"` : `CREATE DATABASE "${name}" TEMPLATE "${TEMPLATE_DB}"`);
  created.push(name);
  return name;
}

function production(name: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    NODE_ENV: 'production',
    DATABASE_URL: dbUrl(name),
    JWT_SECRET: 'production-secret-production-secret-0123',
    // Production needs a channel for password resets; nothing is sent while these tests run.
    SMTP_URL: 'smtp://127.0.0.1:2525',
    MAIL_FROM: 'Lilium <no-reply@lilium.test>',
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'warn',
    BCRYPT_COST: '4',
    ...extra,
  };
}

async function startNode(env: Record<string, string>): Promise<string> {
  const p = spawnServer(env);
  running.push(p);
  const [, url] = await p.waitFor(/listening on (http:\S+)/);
  return url!;
}

async function login(url: string, email: string, password: string, app: App = 'dashboard') {
  const socket: LiliumSocket = io(url, { transports: ['websocket'], reconnection: false, forceNew: true });
  try {
    return await call(socket, 'auth:login', { app, login: email, password });
  } finally {
    socket.close();
  }
}

function passwordFile(password: string): string {
  const path = join(dir, `${randomBytes(4).toString('hex')}.txt`);
  writeFileSync(path, `${password}\n`, { mode: 0o600 });
  return path;
}

async function users(name: string): Promise<Array<{ email: string; role: string }>> {
  const client = new pg.Client({ connectionString: dbUrl(name) });
  await client.connect();
  try {
    return (await client.query<{ email: string; role: string }>('SELECT email, role FROM users ORDER BY email')).rows;
  } finally {
    await client.end();
  }
}

const wrongLogin = (e: RpcError) => e.code === 'UNAUTHENTICATED' && e.message === 'wrong login or password';

describe('a production node', () => {
  test('on an empty database seeds nothing, and the demo login fails', async () => {
    const name = await database('empty');
    const url = await startNode(production(name));
    await expect(login(url, 'superadmin@demo.lilium', DEMO_PASSWORD)).rejects.toSatisfy(wrongLogin);
    expect(await users(name)).toEqual([]);
  });

  test('refuses to start, in one line naming what to do, while a demo login has the demo password', async () => {
    const name = await database('demo');
    for (const env of [production(name), production(name, { DEMO_PASSWORD: 'another-demo-password' })]) {
      const p = spawnServer(env);
      const { code } = await p.exited;
      expect(code).toBe(1);
      expect(p.stderr().trim().split('\n')).toEqual([
        expect.stringMatching(/^lilium: cannot start: .*demo logins? .*superadmin@demo\.lilium.* demo password.*npm run db -- retire-demo-logins/),
      ]);
      expect(p.stdout()).not.toContain('listening on');
    }
  });

  test('starts once `npm run db -- retire-demo-logins` has disabled the demo logins', async () => {
    const name = await database('demo');
    const cli = spawnDbCli(['retire-demo-logins'], production(name));
    expect((await cli.exited).code).toBe(0);
    expect(cli.stdout()).toContain('retired 11 demo login(s)');
    const url = await startNode(production(name));
    await expect(login(url, 'superadmin@demo.lilium', DEMO_PASSWORD)).rejects.toSatisfy((e: RpcError) => e.code === 'UNAUTHENTICATED');
  });

  test('refuses to start without a channel for password resets, naming the variables', async () => {
    const { SMTP_URL: _smtp, MAIL_FROM: _from, ...env } = production('unused');
    const p = spawnServer(env);
    expect((await p.exited).code).toBe(1);
    expect(p.stderr().trim().split('\n')).toEqual([
      'config: SMTP_URL or SMS_GATEWAY_URL is required when NODE_ENV=production, so that password resets can go out (it is not set)',
    ]);
  });

  test('SEED=auto is a configuration error', async () => {
    const p = spawnServer(production('unused', { SEED: 'auto' }));
    expect((await p.exited).code).toBe(1);
    expect(p.stderr().trim().split('\n')).toEqual([expect.stringMatching(/^config: SEED .*production never seeds demo data/)]);
  });
});

describe('the first super admin', () => {
  test('`npm run db -- create-admin` with a password file works once and makes a SUPER_ADMIN who can sign in', async () => {
    const name = await database('empty');
    const short = spawnDbCli(['create-admin', '--email', 'root@example.com', '--password-file', passwordFile('short')], production(name));
    expect((await short.exited).code).toBe(1);
    expect(short.stderr().trim()).toBe('create-admin: the password must be at least 10 characters');

    const first = spawnDbCli(
      ['create-admin', '--email', 'Root@Example.com', '--name', 'Root', '--password-file', passwordFile('correct horse battery')],
      production(name),
    );
    expect((await first.exited).code).toBe(0);
    expect(first.stdout()).toContain('created SUPER_ADMIN root@example.com');

    const again = spawnDbCli(['create-admin', '--email', 'second@example.com', '--password-file', passwordFile('another long password')], production(name));
    expect((await again.exited).code).toBe(1);
    expect(again.stderr().trim()).toBe('create-admin: an admin already exists; admins create further accounts with users:create');
    expect(await users(name)).toEqual([{ email: 'root@example.com', role: 'SUPER_ADMIN' }]);

    const url = await startNode(production(name));
    const { user } = await login(url, 'root@example.com', 'correct horse battery');
    expect(user).toMatchObject({ role: 'SUPER_ADMIN', name: 'Root', email: 'root@example.com' });
  });

  test('BOOTSTRAP_ADMIN_EMAIL creates the first super admin, and is refused once an admin exists', async () => {
    const name = await database('empty');
    const file = passwordFile('bootstrap password 1');
    const url = await startNode(production(name, { BOOTSTRAP_ADMIN_EMAIL: 'boot@example.com', BOOTSTRAP_ADMIN_PASSWORD_FILE: file }));
    expect((await login(url, 'boot@example.com', 'bootstrap password 1')).user.role).toBe('SUPER_ADMIN');

    const p = spawnServer(production(name, { BOOTSTRAP_ADMIN_EMAIL: 'late@example.com', BOOTSTRAP_ADMIN_PASSWORD_FILE: file }));
    running.push(p);
    const [, second] = await p.waitFor(/listening on (http:\S+)/);
    expect(p.stdout()).toContain('BOOTSTRAP_ADMIN_EMAIL ignored: an admin already exists');
    await expect(login(second!, 'late@example.com', 'bootstrap password 1')).rejects.toSatisfy(wrongLogin);
    expect(await users(name)).toEqual([{ email: 'boot@example.com', role: 'SUPER_ADMIN' }]);
  });

  test('BOOTSTRAP_ADMIN_EMAIL without a password file is a configuration error', async () => {
    const p = spawnServer(production('unused', { BOOTSTRAP_ADMIN_EMAIL: 'boot@example.com' }));
    expect((await p.exited).code).toBe(1);
    expect(p.stderr().trim().split('\n')).toEqual([expect.stringMatching(/^config: BOOTSTRAP_ADMIN_PASSWORD_FILE is required with BOOTSTRAP_ADMIN_EMAIL/)]);
  });
});
