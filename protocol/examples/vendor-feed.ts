/**
 * A vendor dashboard's order feed that stays right across drops, server restarts and token expiry,
 * built on the live client. Against a running server (`npm start`):
 *
 *   npx tsx protocol/examples/vendor-feed.ts [url]
 *
 * LILIUM_LOGIN and LILIUM_PASSWORD sign in (default: the demo vendor staff); LAST_SEQ resumes after
 * the seq an earlier run printed when it closed. Ctrl-C closes it. A test runs it against a real
 * server (test/live-client.test.ts), so it keeps working.
 */
import { io } from 'socket.io-client';
import { call } from '../client.js';
import { createLiveClient, tokensFrom, type Tokens } from '../live-client.js';

const url = process.argv[2] ?? process.env.LILIUM_URL ?? 'http://localhost:3000';
const login = process.env.LILIUM_LOGIN ?? 'vendor1@demo.lilium';
const password = process.env.LILIUM_PASSWORD ?? 'lilium-demo-pass';
const lastSeq = process.env.LAST_SEQ === undefined ? undefined : Number(process.env.LAST_SEQ);

const print = (line: string) => process.stdout.write(`${line}\n`);

async function main(): Promise<void> {
  // Sign in once, on a socket of its own; an app that kept its tokens (and lastSeq) skips this.
  const signIn = io(url, { transports: ['websocket'] });
  const { user, ...pair } = await call(signIn, 'auth:login', { app: 'dashboard', login, password });
  signIn.close();
  print(`signed in as ${user.name}`);

  // Where an app would persist these: localStorage, AsyncStorage, the keychain.
  let saved: Tokens = tokensFrom(pair);
  const client = createLiveClient({
    url,
    tokens: saved,
    lastSeq,
    handlers: {
      // Stored pushes come in their envelope, once each and in seq order, live or caught up after a drop.
      'order:new': ({ seq, data: order }) => print(`order:new seq=${seq} order=${order.id} #${order.number} total=${order.total} ${order.currency}`),
      'order:updated': ({ seq, data: order }) => print(`order:updated seq=${seq} order=${order.id} status=${order.status}`),
      'cash:collected': ({ seq, data }) => print(`cash:collected seq=${seq} order=${data.orderId}`),
      'notification:new': ({ seq, data }) =>
        print(
          `notification:new seq=${seq} kind=${data.notification.kind} link=${data.notification.link?.id ?? 'none'} unread=${data.unread}: ${data.notification.title}`,
        ),
      // Live-only pushes come as they are.
      'server:shutdown': ({ reconnectInMs }) => print(`server:shutdown reconnecting in ${reconnectInMs} ms`),
    },
    onTokens: (tokens) => {
      saved = tokens;
      print(`tokens refreshed, access token valid until ${new Date(saved.expiresAt!).toISOString()}`);
    },
    onState: (state) => print(`state=${state} lastSeq=${client.lastSeq ?? 'none'}`),
    onSignedOut: (err) => {
      print(`signed out (${err.code}): sign in again`);
      process.exitCode = 1;
    },
    onError: (err) => print(`retrying after: ${err instanceof Error ? err.message : String(err)}`),
  });

  process.once('SIGINT', () => {
    client.close();
    // Persisted with the tokens, this is where the next run starts (LAST_SEQ).
    print(`closed lastSeq=${client.lastSeq ?? 'none'}`);
  });
}

main().catch((err: unknown) => {
  print(`cannot start: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
