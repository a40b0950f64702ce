import { AppError } from '../errors.js';
import { actorOf } from '../rpc/context.js';
import { rpc } from '../rpc/rpc.js';
import { findUser } from './user-view.js';
import { changePassword, confirmPasswordReset, login, logout, refresh, requestPasswordReset } from './auth.service.js';

export const authHandlers = [
  rpc('auth:login', login),
  rpc('auth:refresh', refresh),
  rpc('auth:logout', logout),
  rpc('auth:password:change', changePassword),
  rpc('auth:password-reset:request', requestPasswordReset),
  rpc('auth:password-reset:confirm', confirmPasswordReset),
  rpc('me:get', async (ctx) => {
    const user = await findUser(ctx, actorOf(ctx).userId);
    if (!user) throw new AppError('UNAUTHENTICATED', 'this account no longer exists');
    return user;
  }),
];
