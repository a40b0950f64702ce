import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { pid: process.pid },
    redact: { paths: ['password', '*.password', '*.newPassword', '*.currentPassword', '*.refreshToken', '*.token'], censor: '[hidden]' },
  });
}
