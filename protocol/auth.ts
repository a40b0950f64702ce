import { z } from 'zod';
import { App, Empty, Locale } from './common.js';
import { defineEvents, definePushes } from './spec.js';
import { Email, Phone, User } from './users.js';

export const Login = z.string().trim().min(3).max(200);
/** What a login accepts: any stored password, however old the rules it was set under. */
export const Password = z.string().min(1).max(200);
/** What a new password must be. */
export const NewPassword = z.string().min(10, 'at least 10 characters').max(200);

export const TokenPair = z.object({
  accessToken: z.string(),
  refreshToken: z.string(),
  /** Seconds until the access token expires. */
  expiresIn: z.int(),
});

export const authEvents = defineEvents({
  'auth:login': {
    summary:
      'Log in by email or phone from one app (mobile: shop owners; driver: drivers; dashboard: vendor staff, managers, admins); authenticates this socket in place and joins its rooms. Five failures in 15 minutes for one account (or one unknown login) answer LOCKED, however many are sent at once; a client address past its budget of failures, or a flood of password checks, answers RATE_LIMITED with retryInMs.',
    roles: 'anyone',
    input: z.strictObject({ app: App, login: Login, password: Password }),
    result: TokenPair.extend({ user: User }),
  },
  'auth:refresh': {
    summary:
      'Rotate a refresh token: answers a new pair and spends the old token. A spent token presented again revokes its whole session. Re-authenticates this socket.',
    roles: 'anyone',
    input: z.strictObject({ refreshToken: z.string().min(1).max(200) }),
    result: TokenPair,
  },
  'auth:logout': {
    summary: "End this session: its refresh token stops working and the session's sockets are disconnected on every node.",
    roles: 'signedIn',
    input: Empty,
    result: Empty,
  },
  'auth:password:change': {
    summary: "Change one's own password; every other session is ended.",
    roles: 'signedIn',
    input: z.strictObject({ currentPassword: Password, newPassword: NewPassword }),
    result: Empty,
  },
  'auth:password-reset:request': {
    summary: 'Ask for a reset token, sent to the account’s email or phone. The answer is the same whether or not the account exists.',
    roles: 'anyone',
    input: z.strictObject({ login: Login }),
    result: Empty,
  },
  'auth:password-reset:confirm': {
    summary: 'Set a new password with a reset token (single use, valid 30 minutes); every session of the account is ended.',
    roles: 'anyone',
    input: z.strictObject({ token: z.string().min(1).max(200), newPassword: NewPassword }),
    result: Empty,
  },
  'me:get': {
    summary: 'The signed-in user.',
    roles: 'signedIn',
    input: Empty,
    result: User,
  },
  'me:update': {
    summary: "Change one's own name, email, phone or locale (the language notifications are written in).",
    roles: 'signedIn',
    input: z
      .strictObject({
        name: z.string().trim().min(1).max(200).optional(),
        email: Email.optional(),
        phone: Phone.optional(),
        locale: Locale.optional(),
      })
      .refine((v) => Object.keys(v).length > 0, 'nothing to change'),
    result: User,
  },
});

export const authPushes = definePushes({
  'auth:expired': {
    summary: "This socket's access token has expired: call auth:refresh within the grace period or the socket is disconnected.",
    to: 'the socket',
    data: Empty,
    stored: false,
  },
});
