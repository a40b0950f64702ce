/**
 * The ceilings of a call, each on Socket.IO over uWebSockets.js with nothing of Lilium's RPC layer (no auth, no
 * validation, no logging, no metrics). Started by ceilings.bench.ts as its own process; prints its port.
 * - `ping` answers an ack and does nothing else.
 * - With BARE_DATABASE_URL (a migrated Lilium database): `me:get` and `cart:get` run the same SQL as Lilium's
 *   calls, built by the same functions, through a pg pool of BARE_POOL_SIZE (Lilium's DB_POOL_SIZE), and answer
 *   the same data. There is no session, so the caller names its user (`userId`) and shop (`shopId`).
 * - With BARE_REDIS_URL: `broadcast` emits `bench:push` to every socket of every node sharing BARE_REDIS_KEY,
 *   through the same Redis adapter Lilium uses.
 */
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import pg from 'pg';
import { Server } from 'socket.io';
import { toSafeInteger } from '../db/columns.js';
import type { Sql } from '../db/sql.js';
import type { Reader } from '../db/tx.js';
import type { Locale } from '../protocol/common.js';
import { findUser } from '../server/auth/user-view.js';
import { readCart } from '../server/cart/pricing.js';
import { loadNativeUws } from '../server/http/uws.js';

type Ack = (r: unknown) => void;

const uws = loadNativeUws();
const app = uws.App();
const { BARE_DATABASE_URL, BARE_REDIS_URL } = process.env;
const adapter = BARE_REDIS_URL
  ? createAdapter(new Redis(BARE_REDIS_URL), new Redis(BARE_REDIS_URL), { key: process.env.BARE_REDIS_KEY ?? 'lilium-bench-bare#socket.io' })
  : undefined;
const io = new Server({ serveClient: false, ...(adapter ? { adapter } : {}) });
io.attachApp(app);

// As db/data-source.ts reads int8 for Lilium.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => toSafeInteger(value));
const pool = BARE_DATABASE_URL ? new pg.Pool({ connectionString: BARE_DATABASE_URL, max: Number(process.env.BARE_POOL_SIZE ?? 10) }) : null;
const reader: Reader = {
  query: async <T>(statement: Sql) => (await pool!.query(statement.compile())).rows as T[],
};
const config = { defaultLocale: (process.env.DEFAULT_LOCALE ?? 'ar') as Locale };
const currency = process.env.CURRENCY ?? 'IQD';

/** Answers what `work` resolves to, as Lilium's ack does; a failure is an error answer, not a crash. */
const answer = (work: Promise<unknown>, ack: Ack) =>
  work.then(
    (data) => ack({ ok: true, data }),
    (err: Error) => ack({ ok: false, error: { code: 'INTERNAL', message: err.message } }),
  );

io.on('connection', (socket) => {
  socket.on('ping', (_input: unknown, ack: Ack) => ack({ ok: true, data: {} }));
  if (pool) {
    socket.on('me:get', (input: { userId: string }, ack: Ack) => void answer(findUser({ ...reader, deps: { config } }, input.userId), ack));
    socket.on('cart:get', (input: { shopId: string }, ack: Ack) => void answer(readCart(reader, input.shopId, currency), ack));
  }
  socket.on('broadcast', (input: { seq: number }, ack: Ack) => {
    io.emit('bench:push', { seq: input.seq });
    ack({ ok: true, data: {} });
  });
});
app.listen('127.0.0.1', 0, (token) => {
  if (!token) process.exit(1);
  process.stdout.write(`bare listening on ${uws.us_socket_local_port(token)}\n`);
});
process.on('SIGTERM', () => process.exit(0));
