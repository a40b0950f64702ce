import { afterAll, beforeAll, expect, test } from 'vitest';
import { call, RpcError } from '../protocol/client.js';
import { Roles, type Role } from '../protocol/common.js';
import { eventNames, events, type EventName } from '../protocol/index.js';
import { allows, type Access } from '../protocol/spec.js';
import { startHarness, type Harness, type Session } from './support/harness.js';

const logins: Record<Role, string> = {
  SUPER_ADMIN: 'superadmin@demo.lilium',
  ADMIN: 'admin@demo.lilium',
  COMPANY_MANAGER: 'manager1@demo.lilium',
  VENDOR: 'vendor1@demo.lilium',
  SHOP_OWNER: 'shop1@demo.lilium',
  DRIVER: 'driver1@demo.lilium',
};
// Ending a session would spoil the calls after it.
const LAST: string[] = ['auth:logout'];
const ordered = [...eventNames.filter((e) => !LAST.includes(e)), ...eventNames.filter((e) => LAST.includes(e))];

let h: Harness;
const sessions = {} as Record<Role, Session>;
beforeAll(async () => {
  h = await startHarness({ env: { RATE_LIMIT_BURST: '10000' } });
  for (const role of Roles) sessions[role] = await h.login(logins[role]);
});
afterAll(() => h.close());

async function outcome(socket: Session['socket'], event: EventName) {
  try {
    await call(socket, event, {} as never);
    return 'OK';
  } catch (e) {
    const err = e as RpcError;
    if (err.code === 'FORBIDDEN' && (err.details as { reason?: string })?.reason === 'role') return 'DENIED';
    return err.code;
  }
}

test('every event has an allow-list in protocol/ naming only known roles', () => {
  for (const e of eventNames) {
    const roles = events[e].roles as Access;
    expect(roles === 'anyone' || roles === 'signedIn' || (roles.length > 0 && roles.every((r) => (Roles as readonly string[]).includes(r))), e).toBe(true);
  }
});

test('every event answers every role (and an anonymous socket) exactly as its allow-list says', async () => {
  const anonymous = await h.connect();
  const mismatches: string[] = [];
  for (const event of ordered) {
    const spec = events[event].roles;
    const anon = await outcome(anonymous, event);
    const anonAllowed = allows(spec, undefined);
    if (anonAllowed === (anon === 'UNAUTHENTICATED')) mismatches.push(`${event} anonymous → ${anon}`);
    for (const role of Roles) {
      const got = await outcome(sessions[role].socket, event);
      const allowed = allows(spec, role);
      if (allowed === (got === 'DENIED') || got === 'UNAUTHENTICATED') mismatches.push(`${event} as ${role} → ${got}`);
    }
  }
  expect(mismatches).toEqual([]);
});
