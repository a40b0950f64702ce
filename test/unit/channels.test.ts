import { expect, test } from 'vitest';
import { DeliveryError } from '../../server/notifications/channels/channel.js';
import { settleAll } from '../../server/notifications/channels/fanout.js';
import { retryAfterMs } from '../../server/notifications/channels/http.js';
import { maskAddress } from '../../server/notifications/channels/log.js';
import { fillTemplate } from '../../server/notifications/channels/template.js';

test('Retry-After is read as seconds or as an HTTP date; anything else is no hint', () => {
  const now = Date.parse('2026-01-10T12:00:00Z');
  expect(retryAfterMs('120', now)).toBe(120_000);
  expect(retryAfterMs(' 0 ', now)).toBe(0);
  expect(retryAfterMs('Sat, 10 Jan 2026 12:00:30 GMT', now)).toBe(30_000);
  expect(retryAfterMs('Sat, 10 Jan 2026 11:00:00 GMT', now)).toBe(0);
  expect(retryAfterMs('soon', now)).toBeNull();
  expect(retryAfterMs('-5', now)).toBeNull();
  expect(retryAfterMs(null, now)).toBeNull();
});

test('a template is filled with JSON-escaped values and stays JSON; unknown placeholders stay as they are', () => {
  const filled = fillTemplate('{"to":"{to}","text":"{text}","keep":"{other}"}', { to: '+9647701234567', text: 'say "hi"\n\\ \u0001 مرحبا' });
  expect(JSON.parse(filled)).toEqual({ to: '+9647701234567', text: 'say "hi"\n\\ \u0001 مرحبا', keep: '{other}' });
  expect(fillTemplate('{text}{text}', { text: 'a' })).toBe('aa');
  expect(fillTemplate('{constructor}', {})).toBe('{constructor}');
});

test('an address in a log shows whose it is, not the address', () => {
  expect(maskAddress('layla@example.com')).toBe('l***@example.com');
  expect(maskAddress('+9647701234567')).toBe('+964***67');
  expect(maskAddress('+12345')).toBe('***');
  expect(maskAddress(null)).toBeNull();
});

async function outcome(sends: Array<Promise<void>>) {
  try {
    await settleAll(sends);
    return 'sent';
  } catch (e) {
    const err = e as DeliveryError;
    return { message: err.message, retryable: err.retryable, retryAfterMs: err.retryAfterMs };
  }
}

test('a fan-out succeeds when every target did; retryable when any failure is, after the longest Retry-After; final when all failures are', async () => {
  const fail = (message: string, retryable: boolean, after: number | null = null) => Promise.reject(new DeliveryError(message, retryable, after));
  expect(await outcome([])).toBe('sent');
  expect(await outcome([Promise.resolve(), Promise.resolve()])).toBe('sent');
  expect(await outcome([Promise.resolve(), fail('a answered 400', false)])).toEqual({ message: 'a answered 400', retryable: false, retryAfterMs: null });
  expect(await outcome([fail('a answered 400', false), fail('b answered 429', true, 5_000), fail('b answered 429', true, 9_000), fail('c', true)])).toEqual({
    message: 'a answered 400; b answered 429; c',
    retryable: true,
    retryAfterMs: 9_000,
  });
  expect(await outcome([Promise.reject(new Error('connection reset'))])).toEqual({ message: 'connection reset', retryable: true, retryAfterMs: null });
});
