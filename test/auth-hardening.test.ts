import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, onTestFinished, test } from 'vitest';
import { call, RpcError, type LiliumSocket } from '../protocol/client.js';
import { LoginHardening1764100000000 } from '../db/migrations/1764100000000-login-hardening.js';
import { codeOf, expectLocked, expectRateLimited, rejection } from './support/expect.js';
import { startHarness, type Harness } from './support/harness.js';
import { until } from './support/until.js';

const PASSWORD = 'lilium-demo-pass';

/** The codes of many sign-in attempts sent at once, each from its own socket and client address. */
async function burst(h: Harness, attempts: Array<{ login: string; password: string }>): Promise<string[]> {
  const sockets = await Promise.all(attempts.map(() => h.connect()));
  return Promise.all(attempts.map((a, i) => codeOf(call(sockets[i]!, 'auth:login', { app: 'mobile', ...a }))));
}

const count = (codes: string[], code: string) => codes.filter((c) => c === code).length;

describe('lockout under concurrency, per account', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ env: { TRUST_PROXY: '1' } });
  });
  afterAll(() => h.close());

  const fail = (login: string, address: string) =>
    h.connect({ address }).then((s) => codeOf(call(s, 'auth:login', { app: 'mobile', login, password: 'wrong-password' })));

  test('thirty guesses sent at once at one account get at most five checked, whatever their order', async () => {
    const attempts = Array.from({ length: 30 }, (_, i) => ({ login: 'shop12@demo.lilium', password: i === 29 ? PASSWORD : `wrong-password-${i}` }));
    const codes = await burst(h, attempts);
    const wrong = codes.slice(0, 29);
    expect(count(wrong, 'UNAUTHENTICATED')).toBeLessThanOrEqual(5);
    // Past the five places: LOCKED once five failures are in, RATE_LIMITED while some of the five are still being checked.
    expect(count(wrong, 'UNAUTHENTICATED') + count(wrong, 'LOCKED') + count(wrong, 'RATE_LIMITED')).toBe(29);
    expect(['OK', 'LOCKED', 'RATE_LIMITED']).toContain(codes[29]);
    const [shop12] = await h.q<{ id: string }>(`SELECT id FROM users WHERE email = 'shop12@demo.lilium'`);
    expect(await h.audit('LOGIN_FAILED', shop12!.id)).toHaveLength(count(wrong, 'UNAUTHENTICATED'));
  });

  test('thirty guesses sent at once at an unknown login: exactly five are checked, the rest refused unchecked', async () => {
    const codes = await burst(
      h,
      Array.from({ length: 30 }, (_, i) => ({ login: 'ghost-race@demo.lilium', password: `wrong-password-${i}` })),
    );
    expect(count(codes, 'UNAUTHENTICATED')).toBe(5);
    expect(count(codes, 'LOCKED') + count(codes, 'RATE_LIMITED')).toBe(25);
    // Once the five are settled, everyone is LOCKED.
    expect(await fail('ghost-race@demo.lilium', '192.0.2.55')).toBe('LOCKED');
  });

  test('right passwords sent at once from many devices are never locked out: beyond five in flight they are asked to retry', async () => {
    const socketsOf = await Promise.all(Array.from({ length: 12 }, (_, i) => h.connect({ address: `192.0.2.${150 + i}` })));
    const answers = await Promise.all(
      socketsOf.map((s) =>
        call(s, 'auth:login', { app: 'mobile', login: 'shop19@demo.lilium', password: PASSWORD }).then(
          () => null,
          (e: RpcError) => e,
        ),
      ),
    );
    const refused = answers.filter((e): e is RpcError => e !== null);
    expect(refused.map((e) => e.code).filter((c) => c !== 'RATE_LIMITED')).toEqual([]);
    for (const e of refused) expect(e.details).toEqual({ retryInMs: 1000 });
    // Retried, each gets in: nothing was counted as a failure.
    for (const [i, e] of answers.entries())
      if (e) expect(await codeOf(call(socketsOf[i]!, 'auth:login', { app: 'mobile', login: 'shop19@demo.lilium', password: PASSWORD }))).toBe('OK');
    const [row] = await h.q<{ n: number }>(
      `SELECT count(*)::int AS n FROM login_failures f JOIN users u ON f.login_key = 'account:' || u.id WHERE u.email = 'shop19@demo.lilium'`,
    );
    expect(row!.n).toBe(0);
  });

  test('failures by email and by phone count against the one account', async () => {
    const since = Date.now();
    for (let i = 0; i < 3; i++) expect(await fail('shop13@demo.lilium', `192.0.2.${60 + i}`)).toBe('UNAUTHENTICATED');
    for (let i = 0; i < 2; i++) expect(await fail('+964 773 0000013', `192.0.2.${70 + i}`)).toBe('UNAUTHENTICATED');
    expectLocked(await rejection(h.login('shop13@demo.lilium', { address: '192.0.2.80' })), since);
    expectLocked(await rejection(h.login('+9647730000013', { address: '192.0.2.81' })), since);
  });

  test('many failures for one account from an address do not lock another account signing in from it', async () => {
    const address = '192.0.2.90';
    for (let i = 0; i < 5; i++) expect(await fail('shop14@demo.lilium', address)).toBe('UNAUTHENTICATED');
    for (let i = 0; i < 3; i++) expect(await fail('shop14@demo.lilium', address)).toBe('LOCKED');
    for (let i = 0; i < 4; i++) expect(await fail(`someone-else-${i}@demo.lilium`, address)).toBe('UNAUTHENTICATED');
    expect(await codeOf(h.login('shop17@demo.lilium', { address }))).toBe('OK');
  });

  test('a successful sign-in removes its own attempt only: earlier failures still count', async () => {
    const since = Date.now();
    for (let i = 0; i < 4; i++) expect(await fail('shop18@demo.lilium', `192.0.2.${100 + i}`)).toBe('UNAUTHENTICATED');
    expect(await codeOf(h.login('shop18@demo.lilium'))).toBe('OK');
    expect(await codeOf(h.login('shop18@demo.lilium'))).toBe('OK');
    expect(await fail('shop18@demo.lilium', '192.0.2.110')).toBe('UNAUTHENTICATED');
    expectLocked(await rejection(h.login('shop18@demo.lilium')), since);
  });
});

describe('an address past its budget of failures is slowed down, never locked', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ env: { TRUST_PROXY: '1', LOGIN_ADDRESS_MAX_FAILURES: '8' } });
  });
  afterAll(() => h.close());

  test('RATE_LIMITED with retryInMs from that address; other accounts sign in from elsewhere', async () => {
    const address = '192.0.2.120';
    const since = Date.now();
    for (let i = 0; i < 8; i++) {
      const s = await h.connect({ address });
      expect(await codeOf(call(s, 'auth:login', { app: 'mobile', login: `nobody-${i}@demo.lilium`, password: 'wrong-password' }))).toBe('UNAUTHENTICATED');
    }
    // The oldest of the eight failures leaves the 60-second window first.
    expectRateLimited(await rejection(h.login('shop1@demo.lilium', { address })), 60_000 - (Date.now() - since) - 1000, 60_000);
    expect(await codeOf(h.login('shop1@demo.lilium', { address: '192.0.2.121' }))).toBe('OK');
  });
});

describe('PGlite', () => {
  test('parallel guesses at one login are bounded on the embedded database too', { timeout: 120_000 }, async () => {
    const h = await startHarness({ database: 'pglite', env: { TRUST_PROXY: '1' } });
    onTestFinished(() => h.close());
    const codes = await burst(
      h,
      Array.from({ length: 12 }, (_, i) => ({ login: 'shop3@demo.lilium', password: `wrong-password-${i}` })),
    );
    expect(count(codes, 'UNAUTHENTICATED')).toBe(5);
    expect(count(codes, 'LOCKED') + count(codes, 'RATE_LIMITED')).toBe(7);
    const [shop3] = await h.q<{ id: string }>(`SELECT id FROM users WHERE email = 'shop3@demo.lilium'`);
    expect(await h.audit('LOCKOUT', shop3!.id)).toHaveLength(1);
  });
});

describe('password hashing under a flood', () => {
  test('sign-in stays prompt while many clients flood bad reset confirms and bad logins', async () => {
    const h = await startHarness({ env: { TRUST_PROXY: '1', BCRYPT_COST: '10', BCRYPT_CONCURRENCY: '2', BCRYPT_PER_ADDRESS: '8', BCRYPT_QUEUE: '32' } });
    onTestFinished(() => h.close());
    const flooders: LiliumSocket[] = [];
    for (let i = 0; i < 24; i++) flooders.push(await h.connect({ address: `203.0.113.${100 + i}` }));
    let flooding = true;
    let rounds = 0;
    const flood = flooders.map(async (s, i) => {
      for (let round = 0; flooding; round++) {
        await Promise.allSettled(
          Array.from({ length: 20 }, (_, j) =>
            j % 2
              ? call(s, 'auth:password-reset:confirm', { token: `guess-${i}-${round}-${j}`, newPassword: 'a-brand-new-password' })
              : call(s, 'auth:login', { app: 'mobile', login: `flood-${i}-${round}-${j}@demo.lilium`, password: 'wrong-password' }),
          ),
        );
        rounds++;
      }
    });
    // Measured once every flooder has had a round answered, while they keep going.
    await until(async () => rounds >= flooders.length, 60_000);
    const took: number[] = [];
    for (const email of ['shop1@demo.lilium', 'shop2@demo.lilium', 'shop3@demo.lilium']) {
      const started = performance.now();
      await h.login(email, { address: `192.0.2.${200 + took.length}` });
      took.push(performance.now() - started);
    }
    flooding = false;
    await Promise.all(flood);
    expect(Math.max(...took)).toBeLessThan(5_000);
  }, 120_000);
});

describe('one login, one account', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.close());

  test("an account cannot take another's email as its phone", async () => {
    const shop15 = await h.login('shop15@demo.lilium');
    const shop16 = await h.login('shop16@demo.lilium');
    const taken = await rejection(call(shop15.socket, 'me:update', { phone: 'shop16@demo.lilium' }));
    expect(taken.code).toBe('BAD_REQUEST');
    expect(taken.details).toEqual([expect.objectContaining({ path: 'phone', code: 'invalid_format' })]);
    await call(shop16.socket, 'me:update', { phone: '+9647731234516' });
    expect((await h.login('shop16@demo.lilium', { app: 'mobile' })).userId).toBe(shop16.userId);
    expect((await h.login('+9647731234516', { app: 'mobile' })).userId).toBe(shop16.userId);
  });

  test('phones are E.164 wherever an account is written', async () => {
    const admin = await h.login('admin@demo.lilium');
    const shop19 = await h.login('shop19@demo.lilium');
    const [zone] = (await call(admin.socket, 'zones:list', {})).items;
    const phoneIssue = [expect.objectContaining({ path: 'phone', code: 'invalid_format' })];
    for (const phone of ['0770 123 4567', '+964 770 123 4567', 'shop1@demo.lilium', '+0123456789']) {
      const created = await rejection(
        call(admin.socket, 'users:create', {
          role: 'SHOP_OWNER',
          name: 'X',
          phone,
          password: 'a-long-enough-password',
          shop: { name: 'X', zoneId: zone!.id },
        }),
      );
      expect([created.code, created.details]).toEqual(['BAD_REQUEST', phoneIssue]);
      const updated = await rejection(call(admin.socket, 'users:update', { id: shop19.userId, phone }));
      expect([updated.code, updated.details]).toEqual(['BAD_REQUEST', phoneIssue]);
      const mine = await rejection(call(shop19.socket, 'me:update', { phone }));
      expect([mine.code, mine.details]).toEqual(['BAD_REQUEST', phoneIssue]);
    }
  });

  test('emails are stored trimmed and lowercase; a taken email or phone is a CONFLICT naming the field', async () => {
    const admin = await h.login('admin@demo.lilium');
    const shop20 = await h.login('shop20@demo.lilium');
    const me = await call(shop20.socket, 'me:update', { email: '  Shop20-New@Demo.LILIUM ' });
    expect(me.email).toBe('shop20-new@demo.lilium');
    expect((await h.login('SHOP20-NEW@demo.lilium', { app: 'mobile' })).userId).toBe(shop20.userId);

    const byEmail = await rejection(call(shop20.socket, 'me:update', { email: 'Shop19@Demo.Lilium' }));
    expect(byEmail).toMatchObject({ code: 'CONFLICT', details: { field: 'email' } });
    const byPhone = await rejection(call(admin.socket, 'users:update', { id: shop20.userId, phone: '+9647730000019' }));
    expect(byPhone).toMatchObject({ code: 'CONFLICT', details: { field: 'phone' } });
    const [zone] = (await call(admin.socket, 'zones:list', {})).items;
    const created = await rejection(
      call(admin.socket, 'users:create', {
        role: 'SHOP_OWNER',
        name: 'X',
        email: ' SHOP19@demo.lilium',
        password: 'a-long-enough-password',
        shop: { name: 'X', zoneId: zone!.id },
      }),
    );
    expect(created).toMatchObject({ code: 'CONFLICT', details: { field: 'email' } });
  });

  test('the database itself refuses a phone shaped like an email and an email not normalised', async () => {
    const violation = (sql: string) =>
      h.q(sql).then(
        () => 'written',
        (e: { code?: string; constraint?: string }) => `${e.code} ${e.constraint}`,
      );
    expect(await violation(`UPDATE users SET phone = 'shop1@demo.lilium' WHERE email = 'shop2@demo.lilium'`)).toBe('23514 users_phone_e164');
    expect(await violation(`UPDATE users SET email = 'Shop1@demo.lilium' WHERE email = 'shop2@demo.lilium'`)).toBe('23514 users_email_normalised');
    expect(await violation(`UPDATE users SET email = 'shop1@demo.lilium' WHERE email = 'shop2@demo.lilium'`)).toBe('23505 users_email_key');
    expect(await violation(`UPDATE users SET phone = '+9647730000001' WHERE email = 'shop2@demo.lilium'`)).toBe('23505 users_phone_key');
  });
});

describe('the migration that makes logins unique', () => {
  test('normalises existing emails and phones, clears what cannot be a login, and moves failures onto accounts', async () => {
    const h = await startHarness({ env: { TRUST_PROXY: '1' } });
    onTestFinished(() => h.close());
    const [{ id: deleted }] = (await h.q<{ id: string }>(`SELECT id FROM users WHERE email = 'shop16@demo.lilium'`)) as [{ id: string }];
    const migration = new LoginHardening1764100000000();
    const runner = h.app.deps.db.source.createQueryRunner();
    try {
      await migration.down(runner);
      await h.q(`UPDATE users SET phone = 'shop8@demo.lilium' WHERE email = 'shop7@demo.lilium'`);
      await h.q(`UPDATE users SET email = '  Shop9@Demo.Lilium ' WHERE email = 'shop9@demo.lilium'`);
      await h.q(`UPDATE users SET phone = '+964 773-000-0010' WHERE email = 'shop10@demo.lilium'`);
      // Two spellings of one number: the older account keeps it.
      await h.q(`UPDATE users SET phone = '+964 (773) 0000011', created_at = now() + interval '1 day' WHERE email = 'shop12@demo.lilium'`);
      await h.q(`INSERT INTO login_failures (login_key, address) SELECT 'shop13@demo.lilium', '192.0.2.1' FROM generate_series(1, 5)`);
      // A deleted account whose only login was never valid must not stop the migration.
      await h.q(`UPDATE users SET email = NULL, phone = '0770-old', deleted_at = now() WHERE id = $1`, [deleted]);
      await h.q(`INSERT INTO login_failures (login_key, address) SELECT 'nobody@demo.lilium', '192.0.2.1' FROM generate_series(1, 5)`);
      await migration.up(runner);
    } finally {
      await runner.release();
    }
    const rows = await h.q<{ email: string; phone: string | null }>(
      `SELECT email, phone FROM users WHERE email IN ('shop7@demo.lilium', 'shop9@demo.lilium', 'shop10@demo.lilium', 'shop11@demo.lilium', 'shop12@demo.lilium') ORDER BY email`,
    );
    expect(await h.q(`SELECT email, phone FROM users WHERE id = $1`, [deleted])).toEqual([{ email: `deleted-${deleted}@deleted.invalid`, phone: null }]);
    expect(rows).toEqual([
      { email: 'shop10@demo.lilium', phone: '+9647730000010' },
      { email: 'shop11@demo.lilium', phone: '+9647730000011' },
      { email: 'shop12@demo.lilium', phone: null },
      { email: 'shop7@demo.lilium', phone: null },
      { email: 'shop9@demo.lilium', phone: '+9647730000009' },
    ]);
    expect((await h.audit('LOGIN_CLEARED', deleted)).map((a) => a.details)).toEqual([{ email: null, phone: '0770-old', reason: 'deleted account' }]);
    const cleared = (await h.audit('LOGIN_CLEARED')).filter((a) => a.target_id !== deleted).map((a) => a.details);
    expect(cleared.sort((a, b) => String(a.value).localeCompare(String(b.value)))).toEqual([
      { column: 'phone', value: '+9647730000011', reason: 'duplicate' },
      { column: 'phone', value: 'shop8@demo.lilium', reason: 'invalid' },
    ]);
    expect(await codeOf(h.login('+9647730000013'))).toBe('LOCKED');
    expect(await codeOf(h.connect().then((s) => call(s, 'auth:login', { app: 'mobile', login: 'nobody@demo.lilium', password: 'x' })))).toBe('LOCKED');
  });
});
