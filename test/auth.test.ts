import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { call } from '../protocol/client.js';
import { codeOf, expectLocked, fails, rejection } from './support/expect.js';
import { startHarness, type Harness } from './support/harness.js';
import { until } from './support/until.js';
import { WebhookPeer } from './support/webhook.js';

const SECRET = 'test-secret-test-secret-test-secret-0123';
let h: Harness;
let gateway: WebhookPeer;
beforeAll(async () => {
  gateway = await WebhookPeer.start();
  h = await startHarness({ redis: true, env: { TRUST_PROXY: '1' }, channels: gateway.channels });
});
afterAll(async () => {
  await h.close();
  await gateway.stop();
});

describe('login per app', () => {
  test.each([
    ['shop1@demo.lilium', 'mobile'],
    ['driver1@demo.lilium', 'driver'],
    ['vendor1@demo.lilium', 'dashboard'],
    ['manager1@demo.lilium', 'dashboard'],
    ['admin@demo.lilium', 'dashboard'],
    ['superadmin@demo.lilium', 'dashboard'],
  ] as const)('%s signs in with the %s app and nowhere else', async (login, app) => {
    const s = await h.connect();
    const ok = await call(s, 'auth:login', { app, login, password: 'lilium-demo-pass' });
    expect(ok.user.email).toBe(login);
    expect(ok.expiresIn).toBe(900);
    for (const other of (['mobile', 'driver', 'dashboard'] as const).filter((a) => a !== app)) {
      const err = await rejection(call(s, 'auth:login', { app: other, login, password: 'lilium-demo-pass' }));
      expect(err).toMatchObject({ code: 'FORBIDDEN', details: { reason: 'app', app }, message: expect.stringContaining(`${app} app`) });
    }
  });

  test('login by phone, with spaces, works too', async () => {
    const s = await h.connect();
    const { user } = await call(s, 'auth:login', { app: 'mobile', login: '+964 773 0000001', password: 'lilium-demo-pass' });
    expect(user.email).toBe('shop1@demo.lilium');
  });

  test('a wrong password and an unknown login get the same answer', async () => {
    const s = await h.connect();
    const wrong = await rejection(call(s, 'auth:login', { app: 'mobile', login: 'shop1@demo.lilium', password: 'not-the-password' }));
    const unknown = await rejection(call(s, 'auth:login', { app: 'mobile', login: 'nobody@demo.lilium', password: 'not-the-password' }));
    expect([wrong.code, wrong.message]).toEqual([unknown.code, unknown.message]);
    expect(wrong.code).toBe('UNAUTHENTICATED');
  });

  test('login authenticates the socket in place and joins exactly its rooms', async () => {
    const expectRooms = async (email: string, expected: (u: { id: string; shopId: string | null; vendorId: string | null; zoneIds: string[] }) => string[]) => {
      const s = await h.login(email);
      const me = await call(s.socket, 'me:get', {});
      const [server] = await h.app.deps.io.in(s.socket.id!).fetchSockets();
      const rooms = [...server!.rooms].filter((r) => r !== s.socket.id && !r.startsWith('session:'));
      expect(rooms.sort()).toEqual(expected(me).sort());
    };
    await expectRooms('shop1@demo.lilium', (u) => [`user:${u.id}`, `shop:${u.shopId}`, ...u.zoneIds.map((z) => `zone:${z}`)]);
    await expectRooms('vendor1@demo.lilium', (u) => [`user:${u.id}`, `vendor:${u.vendorId}`]);
    await expectRooms('manager1@demo.lilium', (u) => [`user:${u.id}`, `vendor:${u.vendorId}`]);
    await expectRooms('driver1@demo.lilium', (u) => [`user:${u.id}`, `driver:${u.id}`, ...u.zoneIds.map((z) => `zone:${z}`)]);
    await expectRooms('admin@demo.lilium', (u) => [`user:${u.id}`, 'admins']);
  });
});

describe('tokens', () => {
  test('refresh rotates the pair and spends the old token; presenting a spent one ends the whole session', async () => {
    const s = await h.login('shop2@demo.lilium');
    const other = await h.connect({ token: s.accessToken });
    const first = await call(s.socket, 'auth:refresh', { refreshToken: s.refreshToken });
    expect(first.refreshToken).not.toBe(s.refreshToken);
    const second = await call(s.socket, 'auth:refresh', { refreshToken: first.refreshToken });
    const dropped = h.disconnected(other);
    const reuse = await rejection(call(s.socket, 'auth:refresh', { refreshToken: s.refreshToken }));
    expect(reuse).toMatchObject({ code: 'UNAUTHENTICATED', message: expect.stringContaining('already used') });
    await dropped;
    expect(await codeOf(call(await h.connect(), 'auth:refresh', { refreshToken: second.refreshToken }))).toBe('UNAUTHENTICATED');
    expect(await h.audit('REFRESH_REUSE', s.userId)).toHaveLength(1);
  });

  test('refresh works on an unauthenticated socket and authenticates it', async () => {
    const s = await h.login('shop3@demo.lilium');
    const fresh = await h.connect();
    expect(await codeOf(call(fresh, 'me:get', {}))).toBe('UNAUTHENTICATED');
    await call(fresh, 'auth:refresh', { refreshToken: s.refreshToken });
    expect((await call(fresh, 'me:get', {})).id).toBe(s.userId);
  });

  test('only HS256 tokens with our issuer and audience are accepted', async () => {
    const s = await h.login('shop4@demo.lilium');
    const { sid } = jwt.decode(s.accessToken) as { sid: string };
    const claims = { sid };
    const base = { subject: s.userId, issuer: 'lilium', audience: 'lilium-apps', expiresIn: 600 } as const;
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${Buffer.from(
      JSON.stringify({ sid, sub: s.userId, iss: 'lilium', aud: 'lilium-apps', exp: Math.floor(Date.now() / 1000) + 600 }),
    ).toString('base64url')}.`;
    const refused = [
      none,
      jwt.sign(claims, SECRET, { ...base, algorithm: 'HS384' }),
      jwt.sign(claims, SECRET, { ...base, algorithm: 'HS512' }),
      jwt.sign(claims, SECRET, { ...base, issuer: 'someone-else' }),
      jwt.sign(claims, SECRET, { ...base, audience: 'other-apps' }),
      jwt.sign(claims, SECRET, { ...base, expiresIn: -10 }),
      jwt.sign(claims, 'another-secret-another-secret-another-secret', base),
    ];
    for (const token of refused) await expect(h.connect({ token })).rejects.toThrow('UNAUTHENTICATED');
    const good = await h.connect({ token: jwt.sign(claims, SECRET, base) });
    expect((await call(good, 'me:get', {})).id).toBe(s.userId);
  });

  test('logout ends the session, disconnects its sockets, and leaves other sessions alone', async () => {
    const a = await h.login('shop5@demo.lilium');
    const twin = await h.connect({ token: a.accessToken });
    const b = await h.login('shop5@demo.lilium');
    const gone = [h.disconnected(a.socket), h.disconnected(twin)];
    expect(await call(a.socket, 'auth:logout', {})).toEqual({});
    await Promise.all(gone);
    expect(await codeOf(call(await h.connect(), 'auth:refresh', { refreshToken: a.refreshToken }))).toBe('UNAUTHENTICATED');
    await expect(h.connect({ token: a.accessToken })).rejects.toThrow('UNAUTHENTICATED');
    expect((await call(b.socket, 'me:get', {})).id).toBe(b.userId);
  });
});

describe('lockout', () => {
  const fail = (login: string, address: string) =>
    h.connect({ address }).then((s) => codeOf(call(s, 'auth:login', { app: 'mobile', login, password: 'wrong-password' })));

  test('five failures for one login lock it, even with the right password; an admin unlocks it', async () => {
    const since = Date.now();
    for (let i = 0; i < 5; i++) expect(await fail('shop6@demo.lilium', `192.0.2.${10 + i}`)).toBe('UNAUTHENTICATED');
    expectLocked(await rejection(h.login('shop6@demo.lilium', { address: '192.0.2.99' })), since);

    const admin = await h.login('admin@demo.lilium');
    const shop6 = (await call(admin.socket, 'users:list', { q: 'shop6@demo.lilium' })).items[0]!;
    await call(admin.socket, 'users:unlock', { id: shop6.id });
    await expect(h.login('shop6@demo.lilium', { address: '192.0.2.99' })).resolves.toBeTruthy();
    expect(await h.audit('LOGIN_FAILED', shop6.id)).toHaveLength(5);
    expect(await h.audit('LOCKOUT', shop6.id)).toHaveLength(1);
    expect(await h.audit('USER_UNLOCK', shop6.id)).toHaveLength(1);
  });

  test('an unknown login locks exactly like a real one', async () => {
    for (let i = 0; i < 5; i++) await fail('ghost@demo.lilium', `192.0.2.${30 + i}`);
    expect(await fail('ghost@demo.lilium', '192.0.2.40')).toBe('LOCKED');
  });

  test('failures from one client address for other logins lock no one else: behind a proxy everyone shares it', async () => {
    const address = '192.0.2.50';
    for (let i = 0; i < 5; i++) expect(await fail(`nobody${i}@demo.lilium`, address)).toBe('UNAUTHENTICATED');
    expect(await codeOf(h.login('shop7@demo.lilium', { address }))).toBe('OK');
  });
});

describe('passwords', () => {
  /** The token of the latest reset message the gateway received for this address, by the channel of its login. */
  const resetToken = async (address: string, channel: 'email' | 'sms') => {
    await until(async () => gateway.to(address).length > 0, 5_000);
    const got = gateway.to(address).at(-1)!;
    // Demo accounts have no locale of their own: the deployment's default (DEFAULT_LOCALE, ar).
    expect(got).toMatchObject({ channel, message: { kind: 'account.password_reset', locale: 'ar', title: 'طلب إعادة تعيين كلمة المرور' } });
    const token = new URL(got.message.url!).searchParams.get('token')!;
    expect(got.message.body).toContain(got.message.url);
    return token;
  };

  test('a reset token goes out by email to an email login, never to the log, works once, and ends every session', async () => {
    const victim = await h.login('shop8@demo.lilium');
    const anon = await h.connect();
    expect(await call(anon, 'auth:password-reset:request', { login: 'shop8@demo.lilium' })).toEqual({});
    const token = await resetToken('shop8@demo.lilium', 'email');
    expect(JSON.stringify(h.logs)).not.toContain(token);
    const dropped = h.disconnected(victim.socket);
    expect(await call(anon, 'auth:password-reset:confirm', { token, newPassword: 'a-brand-new-password' })).toEqual({});
    await dropped;
    expect(await codeOf(call(anon, 'auth:password-reset:confirm', { token, newPassword: 'yet-another-password' }))).toBe('UNAUTHENTICATED');
    expect(await codeOf(h.login('shop8@demo.lilium'))).toBe('UNAUTHENTICATED');
    await expect(h.login('shop8@demo.lilium', { password: 'a-brand-new-password' })).resolves.toBeTruthy();
    // Sent once, and once sent the stored message keeps neither the link nor the token.
    const stored = () =>
      h.q<{ status: string; channel: string; secret: boolean; attempts: number; payload: unknown }>(
        `SELECT status, channel, secret, attempts, payload FROM notification_deliveries WHERE address = 'shop8@demo.lilium'`,
      );
    await until(async () => (await stored())[0]?.status === 'SENT', 5_000);
    const [sent] = await stored();
    expect(sent).toEqual({
      status: 'SENT',
      channel: 'email',
      secret: true,
      attempts: 1,
      payload: {
        kind: 'account.password_reset',
        locale: 'ar',
        title: 'طلب إعادة تعيين كلمة المرور',
        body: '',
        url: null,
        data: { kind: 'account.password_reset', notificationId: expect.any(String) },
      },
    });
    expect(gateway.to('shop8@demo.lilium')).toHaveLength(1);
    expect(await h.audit('PASSWORD_RESET', victim.userId)).toHaveLength(1);
  });

  test('a reset for a phone login goes out by SMS to its number; an expired reset token is refused', async () => {
    const anon = await h.connect();
    await call(anon, 'auth:password-reset:request', { login: '+9647730000009' });
    const token = await resetToken('+9647730000009', 'sms');
    await h.q(`UPDATE password_resets SET expires_at = now() - interval '1 second' WHERE used_at IS NULL`);
    expect(await codeOf(call(anon, 'auth:password-reset:confirm', { token, newPassword: 'a-brand-new-password' }))).toBe('UNAUTHENTICATED');
  });

  test('a request for an unknown account gets the same answer and sends nothing', async () => {
    const anon = await h.connect();
    const before = (await h.q<{ n: number }>('SELECT count(*)::int AS n FROM notification_deliveries'))[0]!.n;
    expect(await call(anon, 'auth:password-reset:request', { login: 'nobody-at-all@demo.lilium' })).toEqual({});
    expect((await h.q<{ n: number }>('SELECT count(*)::int AS n FROM notification_deliveries'))[0]!.n).toBe(before);
  });

  test('changing a password needs the current one and ends the other sessions only', async () => {
    const here = await h.login('shop10@demo.lilium');
    const elsewhere = await h.login('shop10@demo.lilium');
    expect(await codeOf(call(here.socket, 'auth:password:change', { currentPassword: 'wrong-password', newPassword: 'a-new-long-password' }))).toBe(
      'UNAUTHENTICATED',
    );
    await fails(call(here.socket, 'auth:password:change', { currentPassword: 'lilium-demo-pass', newPassword: 'short' }), 'BAD_REQUEST', [
      { path: 'newPassword', code: 'too_small' },
    ]);
    const dropped = h.disconnected(elsewhere.socket);
    await call(here.socket, 'auth:password:change', { currentPassword: 'lilium-demo-pass', newPassword: 'a-new-long-password' });
    await dropped;
    expect((await call(here.socket, 'me:get', {})).id).toBe(here.userId);
    expect(await codeOf(call(await h.connect(), 'auth:refresh', { refreshToken: elsewhere.refreshToken }))).toBe('UNAUTHENTICATED');
    expect(await codeOf(h.login('shop10@demo.lilium'))).toBe('UNAUTHENTICATED');
  });
});

describe('accounts changed elsewhere', () => {
  test('disabling a user disconnects their sockets on another node at once', async () => {
    const node = await h.spawnNode();
    const victim = await h.login('shop11@demo.lilium', { url: node.url });
    const admin = await h.login('admin@demo.lilium');
    const dropped = h.disconnected(victim.socket);
    await call(admin.socket, 'users:set-status', { id: victim.userId, status: 'DISABLED', reason: 'test' });
    await dropped;
    await expect(h.connect({ url: node.url, token: victim.accessToken })).rejects.toThrow('UNAUTHENTICATED');
    expect(await codeOf(h.login('shop11@demo.lilium'))).toBe('UNAUTHENTICATED');
  });

  test('a role change disconnects the account everywhere and is audited', async () => {
    const staff = await h.login('vendor2@demo.lilium');
    const admin = await h.login('superadmin@demo.lilium');
    const dropped = h.disconnected(staff.socket);
    const updated = await call(admin.socket, 'users:update', { id: staff.userId, role: 'COMPANY_MANAGER' });
    expect(updated.role).toBe('COMPANY_MANAGER');
    await dropped;
    expect((await h.audit('ROLE_CHANGE', staff.userId))[0]?.details).toEqual({ from: 'VENDOR', to: 'COMPANY_MANAGER' });
  });
});
