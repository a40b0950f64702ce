import { z } from 'zod';
import { App, Empty } from './common.js';
import { defineEvents } from './spec.js';
import { User } from './users.js';

export const Login = z.string().trim().min(3).max(200);
export const Password = z.string().min(1).max(200);

export const TokenPair = z.object({
  accessToken: z.string(),
  refreshToken: z.string(),
  /** Seconds until the access token expires. */
  expiresIn: z.int(),
});

export const authEvents = defineEvents({
  'auth:login': {
    summary: 'Log in by email or phone from one app; authenticates this socket in place and joins its rooms.',
    roles: 'anyone',
    input: z.strictObject({ app: App, login: Login, password: Password }),
    result: TokenPair.extend({ user: User }),
  },
  'me:get': {
    summary: 'The signed-in user.',
    roles: 'signedIn',
    input: Empty,
    result: User,
  },
});
