import { createServer } from 'node:net';

/**
 * Ports a test names itself come from below Linux's ephemeral range (32768 and up), where neither an outgoing
 * connection nor another test's `listen(0)` can take them between the check and the listen (another test file
 * drawing from this range at the same moment still could, one time in thousands); and below the range of the tests'
 * own redis-servers (redis-server.ts, 26000 and up).
 */
const LOW = 20_000;
const HIGH = 26_000;

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** The first of `n` consecutive ports on 127.0.0.1 that are free now. */
export async function freePorts(n = 1): Promise<number> {
  for (let tries = 0; tries < 100; tries++) {
    const base = LOW + Math.floor(Math.random() * (HIGH - LOW - n));
    let free = true;
    for (let i = 0; i < n && free; i++) free = await isFree(base + i);
    if (free) return base;
  }
  throw new Error(`no ${n} consecutive free ports between ${LOW} and ${HIGH}`);
}
