import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { Locale } from '../protocol/common.js';
import { fillTemplate } from './notifications/channels/template.js';

/** The demo accounts' password unless DEMO_PASSWORD says otherwise; tests and benchmarks sign in with it. */
export const DEFAULT_DEMO_PASSWORD = 'lilium-demo-pass';

const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();
const flag = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');
const base64urlBytes = (n: number) =>
  z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/, 'must be base64url')
    .refine((v) => Buffer.from(v, 'base64url').length === n, `must decode to ${n} bytes`);

/** A JSON body with `{to}` and `{text}` inside its strings: filled with JSON-escaped values, it must stay JSON. */
const smsBodyTemplate = z
  .string()
  .refine((v) => v.includes('{to}') && v.includes('{text}'), 'must contain {to} and {text}')
  .refine((v) => {
    try {
      JSON.parse(fillTemplate(v, { to: '+10000000000', text: 'a "quoted"\n\\ text' }));
      return true;
    } catch {
      return false;
    }
  }, 'must be JSON once {to} and {text} are filled (put them inside strings)');

const list = z.string().transform((v) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
);

const env = z
  .object({
    NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
    HOST: z.string().min(1).default('0.0.0.0'),
    PORT: port.default(3000),
    /** Where clients reach this deployment (behind a proxy: the proxy's address); links and documents name it. */
    PUBLIC_URL: z.url({ protocol: /^https?$/ }).optional(),
    DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
    PGLITE_DIR: z.string().min(1).default('./data/pglite'),
    REDIS_URL: z.url({ protocol: /^rediss?$/ }).optional(),
    REDIS_PREFIX: z.string().min(1).default('lilium'),
    JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
    JWT_ISSUER: z.string().min(1).default('lilium'),
    JWT_AUDIENCE: z.string().min(1).default('lilium-apps'),
    // Timers on sockets cannot wait longer than about 24 days; a day is plenty for an access token.
    ACCESS_TOKEN_TTL_S: positiveInt.max(86_400).default(15 * 60),
    REFRESH_TOKEN_TTL_S: positiveInt.default(30 * 24 * 3600),
    AUTH_GRACE_S: positiveInt.default(30),
    SESSION_CHECK_S: positiveInt.max(3600).default(5),
    LOCKOUT_MAX_FAILURES: positiveInt.default(5),
    LOCKOUT_WINDOW_S: positiveInt.default(15 * 60),
    LOGIN_ADDRESS_MAX_FAILURES: positiveInt.default(100),
    LOGIN_ADDRESS_WINDOW_S: positiveInt.default(60),
    PASSWORD_RESET_TTL_S: positiveInt.default(30 * 60),
    ACCOUNT_SETUP_TTL_S: positiveInt.default(3 * 86_400),
    DEFAULT_LOCALE: Locale.default('ar'),
    TRUST_PROXY: flag.default(false),
    BCRYPT_COST: z.coerce.number().int().min(4).max(15).default(12),
    BCRYPT_CONCURRENCY: positiveInt.default(2),
    BCRYPT_PER_ADDRESS: positiveInt.default(8),
    BCRYPT_QUEUE: positiveInt.default(32),
    CORS_ORIGINS: list.default([]),
    METRICS_ALLOW: list.default(['127.0.0.1', '::1']),
    METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
    MAX_CONNECTIONS: positiveInt.default(20_000),
    MAX_CONNECTIONS_PER_ADDRESS: positiveInt.default(200),
    AUTH_TIMEOUT_S: positiveInt.max(3600).default(10),
    UPLOAD_DIR: z.string().min(1).default('./data/uploads'),
    UPLOAD_MAX_BYTES: positiveInt.default(5 * 1024 * 1024),
    UPLOAD_MAX_PIXELS: positiveInt.default(25_000_000),
    UPLOAD_RATE_PER_MIN: positiveInt.default(30),
    UPLOAD_BURST: positiveInt.default(10),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    DEMO_PASSWORD: z.string().min(10, 'must be at least 10 characters').default(DEFAULT_DEMO_PASSWORD),
    SEED: z.enum(['auto', 'never']).optional(),
    BOOTSTRAP_ADMIN_EMAIL: z.email().max(200).optional(),
    BOOTSTRAP_ADMIN_NAME: z.string().trim().min(1).max(200).default('Administrator'),
    BOOTSTRAP_ADMIN_PASSWORD_FILE: z.string().min(1).optional(),
    RPC_MAX_BYTES: positiveInt.default(64 * 1024),
    RATE_LIMIT_PER_S: positiveInt.default(50),
    RATE_LIMIT_BURST: positiveInt.default(100),
    RATE_LIMIT_ADDRESS_PER_S: positiveInt.default(20),
    RATE_LIMIT_ADDRESS_BURST: positiveInt.default(300),
    SHUTDOWN_GRACE_MS: positiveInt.max(9_000).default(8_000),
    DB_POOL_SIZE: positiveInt.default(10),
    STOCK_PUSH_INTERVAL_MS: positiveInt.default(250),
    FEED_RETENTION_DAYS: positiveInt.default(7),
    CURRENCY: z
      .string()
      .regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code like IQD')
      .default('IQD'),
    DELIVERY_ETA_DEFAULT_MIN: positiveInt.default(45),
    DRIVER_LOCATION_INTERVAL_S: positiveInt.default(10),
    CASH_TOLERANCE_BPS: z.coerce.number().int().min(0).max(10_000).default(1_000),
    EXPORT_URL_TTL_S: positiveInt.max(7 * 86_400).default(15 * 60),
    // pg-boss polls no faster than every 500 ms.
    JOBS_POLL_MS: positiveInt.min(500).default(2_000),
    JOBS_MAINTENANCE_S: positiveInt.max(3_600).default(60),
    JOBS_METRICS_S: positiveInt.max(3_600).default(15),
    // pg-boss refuses a job timeout of a day or more.
    IMPORT_TIMEOUT_S: positiveInt.max(86_399).default(15 * 60),
    DELIVERY_MAX_ATTEMPTS: positiveInt.max(100).default(10),
    DELIVERY_RETRY_BASE_MS: positiveInt.default(30_000),
    DELIVERY_RETRY_MAX_MS: positiveInt.default(3_600_000),
    ACCEPTANCE_WINDOW_S: positiveInt.max(86_400).default(15 * 60),
    ACCEPTANCE_WINDOW_MIN_S: positiveInt.max(86_400).default(5 * 60),
    ACCEPTANCE_WINDOW_MAX_S: positiveInt.max(86_400).default(30 * 60),
    ORDER_EXPIRY_S: z.coerce
      .number()
      .int()
      .min(0)
      .max(7 * 86_400)
      .default(3600),
    VALIDATE_RESULTS: flag.optional(),
    SMTP_URL: z.url({ protocol: /^smtps?$/ }).optional(),
    MAIL_FROM: z.string().trim().min(3).max(320).optional(),
    VAPID_PUBLIC_KEY: base64urlBytes(65).optional(),
    VAPID_PRIVATE_KEY: base64urlBytes(32).optional(),
    VAPID_SUBJECT: z
      .string()
      .regex(/^(mailto:.+@.+|https:\/\/.+)$/, 'must be a mailto: or https: URL')
      .optional(),
    WEBPUSH_ALLOW_HTTP: flag.default(false),
    FCM_CREDENTIALS_FILE: z.string().min(1).optional(),
    FCM_PROJECT_ID: z.string().min(1).optional(),
    FCM_ENDPOINT: z.url({ protocol: /^https?$/ }).default('https://fcm.googleapis.com'),
    FCM_TOKEN_URL: z.url({ protocol: /^https?$/ }).optional(),
    SMS_GATEWAY_URL: z.url({ protocol: /^https?$/ }).optional(),
    SMS_GATEWAY_AUTH: z.string().min(1).optional(),
    SMS_GATEWAY_BODY: smsBodyTemplate.default('{"to":"{to}","text":"{text}"}'),
    PROVIDER_TIMEOUT_MS: positiveInt.max(120_000).default(10_000),
    TEST_HANDLERS: z.string().min(1).optional(),
  })
  .superRefine((v, ctx) => {
    if (v.NODE_ENV === 'production' && !v.JWT_SECRET) {
      ctx.addIssue({ code: 'custom', path: ['JWT_SECRET'], message: 'is required when NODE_ENV=production' });
    }
    if (v.NODE_ENV === 'production' && v.SEED === 'auto') {
      ctx.addIssue({ code: 'custom', path: ['SEED'], message: 'cannot be auto when NODE_ENV=production (production never seeds demo data)' });
    }
    if (v.BOOTSTRAP_ADMIN_EMAIL && !v.BOOTSTRAP_ADMIN_PASSWORD_FILE) {
      ctx.addIssue({ code: 'custom', path: ['BOOTSTRAP_ADMIN_PASSWORD_FILE'], message: 'is required with BOOTSTRAP_ADMIN_EMAIL' });
    }
    if (v.NODE_ENV === 'production' && !v.SMTP_URL && !v.SMS_GATEWAY_URL) {
      ctx.addIssue({
        code: 'custom',
        path: ['SMTP_URL'],
        message: 'or SMS_GATEWAY_URL is required when NODE_ENV=production, so that password resets can go out',
      });
    }
    if (v.SMTP_URL && !v.MAIL_FROM) ctx.addIssue({ code: 'custom', path: ['MAIL_FROM'], message: 'is required with SMTP_URL' });
    const vapid = [v.VAPID_PUBLIC_KEY, v.VAPID_PRIVATE_KEY, v.VAPID_SUBJECT].filter(Boolean).length;
    if (vapid > 0 && vapid < 3) {
      const missing = (['VAPID_PUBLIC_KEY', 'VAPID_PRIVATE_KEY', 'VAPID_SUBJECT'] as const).find((k) => !v[k])!;
      ctx.addIssue({ code: 'custom', path: [missing], message: 'is required with the other VAPID_ variables' });
    }
    if (v.WEBPUSH_ALLOW_HTTP && v.NODE_ENV === 'production') {
      ctx.addIssue({ code: 'custom', path: ['WEBPUSH_ALLOW_HTTP'], message: 'is not allowed when NODE_ENV=production' });
    }
    if (v.DELIVERY_RETRY_MAX_MS < v.DELIVERY_RETRY_BASE_MS) {
      ctx.addIssue({ code: 'custom', path: ['DELIVERY_RETRY_MAX_MS'], message: 'must be at least DELIVERY_RETRY_BASE_MS' });
    }
    if (v.ACCEPTANCE_WINDOW_MIN_S > v.ACCEPTANCE_WINDOW_MAX_S) {
      ctx.addIssue({ code: 'custom', path: ['ACCEPTANCE_WINDOW_MIN_S'], message: 'must not exceed ACCEPTANCE_WINDOW_MAX_S' });
    }
    if (v.ACCEPTANCE_WINDOW_S < v.ACCEPTANCE_WINDOW_MIN_S || v.ACCEPTANCE_WINDOW_S > v.ACCEPTANCE_WINDOW_MAX_S) {
      ctx.addIssue({ code: 'custom', path: ['ACCEPTANCE_WINDOW_S'], message: 'must lie within ACCEPTANCE_WINDOW_MIN_S and ACCEPTANCE_WINDOW_MAX_S' });
    }
    if (v.ORDER_EXPIRY_S !== 0 && v.ORDER_EXPIRY_S <= v.ACCEPTANCE_WINDOW_MAX_S) {
      ctx.addIssue({
        code: 'custom',
        path: ['ORDER_EXPIRY_S'],
        message: 'must be 0 (off) or longer than ACCEPTANCE_WINDOW_MAX_S, so every order is escalated before it expires',
      });
    }
    if (v.TEST_HANDLERS && v.NODE_ENV !== 'test') {
      ctx.addIssue({ code: 'custom', path: ['TEST_HANDLERS'], message: 'is only allowed when NODE_ENV=test' });
    }
  })
  .transform((v) => ({
    env: v.NODE_ENV,
    host: v.HOST,
    port: v.PORT,
    publicUrl: (v.PUBLIC_URL ?? `http://localhost:${v.PORT}`).replace(/\/$/, ''),
    database: v.DATABASE_URL
      ? ({ kind: 'postgres', url: v.DATABASE_URL, poolSize: v.DB_POOL_SIZE } as const)
      : ({ kind: 'pglite', dir: v.PGLITE_DIR } as const),
    redis: v.REDIS_URL ? { url: v.REDIS_URL, prefix: v.REDIS_PREFIX } : null,
    jwt: {
      // Without JWT_SECRET (never in production) createApp replaces this throwaway value with the
      // secret generated once for the database (server/dev-secret.ts), so restarts keep sessions.
      secret: v.JWT_SECRET ?? randomBytes(32).toString('base64url'),
      issuer: v.JWT_ISSUER,
      audience: v.JWT_AUDIENCE,
      accessTtlS: v.ACCESS_TOKEN_TTL_S,
      refreshTtlS: v.REFRESH_TOKEN_TTL_S,
      graceS: v.AUTH_GRACE_S,
      /** How often each node re-reads its sockets' sessions: the bound on a revocation that Redis did not carry. */
      sessionCheckS: v.SESSION_CHECK_S,
    },
    bcryptCost: v.BCRYPT_COST,
    /** Password hashing on this node: how many at once, places per client address, places waiting in all. */
    hashing: { concurrency: v.BCRYPT_CONCURRENCY, perKey: v.BCRYPT_PER_ADDRESS, queue: v.BCRYPT_QUEUE },
    /** Failures lock an account (or an unknown login); an address past its own budget is only slowed down. */
    lockout: {
      maxFailures: v.LOCKOUT_MAX_FAILURES,
      windowS: v.LOCKOUT_WINDOW_S,
      addressMaxFailures: v.LOGIN_ADDRESS_MAX_FAILURES,
      addressWindowS: v.LOGIN_ADDRESS_WINDOW_S,
    },
    passwordResetTtlS: v.PASSWORD_RESET_TTL_S,
    /** How long the set-password link of an account created without a password stays valid. */
    accountSetupTtlS: v.ACCOUNT_SETUP_TTL_S,
    /** The language of everyone who has not chosen one (`me:update { locale }`). */
    defaultLocale: v.DEFAULT_LOCALE,
    /** Behind a proxy every client has the proxy's address: take the client's from the last X-Forwarded-For hop. */
    trustProxy: v.TRUST_PROXY,
    /** Browser origins allowed to connect with credentials; none (or `*`) lets any origin connect without them. */
    corsOrigins: v.CORS_ORIGINS,
    /** `/metrics` answers these addresses (or subnets), or a request bearing METRICS_TOKEN. */
    metrics: { allow: v.METRICS_ALLOW, token: v.METRICS_TOKEN ?? null },
    connections: { maxTotal: v.MAX_CONNECTIONS, maxPerAddress: v.MAX_CONNECTIONS_PER_ADDRESS, authTimeoutS: v.AUTH_TIMEOUT_S },
    uploadDir: v.UPLOAD_DIR,
    uploadMaxBytes: v.UPLOAD_MAX_BYTES,
    uploads: { maxPixels: v.UPLOAD_MAX_PIXELS, ratePerMin: v.UPLOAD_RATE_PER_MIN, burst: v.UPLOAD_BURST },
    logLevel: v.LOG_LEVEL,
    demoPassword: v.DEMO_PASSWORD,
    /** Demo data is a development choice: production never seeds. */
    seed: v.SEED ?? (v.NODE_ENV === 'production' ? 'never' : 'auto'),
    /** The first super admin of a deployment, created only while no admin exists. */
    bootstrapAdmin: v.BOOTSTRAP_ADMIN_EMAIL
      ? { email: v.BOOTSTRAP_ADMIN_EMAIL.toLowerCase(), name: v.BOOTSTRAP_ADMIN_NAME, passwordFile: v.BOOTSTRAP_ADMIN_PASSWORD_FILE! }
      : null,
    rpc: {
      maxBytes: v.RPC_MAX_BYTES,
      ratePerS: v.RATE_LIMIT_PER_S,
      burst: v.RATE_LIMIT_BURST,
      /** Before sign-in a client address shares one bucket too, so opening new sockets buys no calls. */
      addressPerS: v.RATE_LIMIT_ADDRESS_PER_S,
      addressBurst: v.RATE_LIMIT_ADDRESS_BURST,
      validateResults: v.VALIDATE_RESULTS ?? v.NODE_ENV !== 'production',
    },
    shutdownGraceMs: v.SHUTDOWN_GRACE_MS,
    currency: v.CURRENCY,
    feed: { stockIntervalMs: v.STOCK_PUSH_INTERVAL_MS, retentionDays: v.FEED_RETENTION_DAYS },
    delivery: { etaDefaultMin: v.DELIVERY_ETA_DEFAULT_MIN, locationIntervalS: v.DRIVER_LOCATION_INTERVAL_S },
    /** How far (basis points of the order total, either way) a driver's collected cash may be from the total. */
    cashToleranceBps: v.CASH_TOLERANCE_BPS,
    /**
     * A PENDING order not accepted within its vendor's window (default `acceptanceWindowS`; vendors choose within
     * [minS, maxS]) is escalated to the vendor's managers and the zone's admins; `expiryS` after it was placed it
     * expires (0: never).
     */
    deadlines: {
      acceptanceWindowS: v.ACCEPTANCE_WINDOW_S,
      minS: v.ACCEPTANCE_WINDOW_MIN_S,
      maxS: v.ACCEPTANCE_WINDOW_MAX_S,
      expiryS: v.ORDER_EXPIRY_S,
    },
    /** How long a signed export download link stays valid. */
    exportUrlTtlS: v.EXPORT_URL_TTL_S,
    /** Where messages leave for people who are not connected; a channel left unset logs what it would send. */
    channels: {
      timeoutMs: v.PROVIDER_TIMEOUT_MS,
      email: v.SMTP_URL ? { url: v.SMTP_URL, from: v.MAIL_FROM! } : null,
      webPush: v.VAPID_PUBLIC_KEY ? { publicKey: v.VAPID_PUBLIC_KEY, privateKey: v.VAPID_PRIVATE_KEY!, subject: v.VAPID_SUBJECT! } : null,
      fcm: v.FCM_CREDENTIALS_FILE
        ? {
            credentialsFile: v.FCM_CREDENTIALS_FILE,
            projectId: v.FCM_PROJECT_ID ?? null,
            endpoint: v.FCM_ENDPOINT.replace(/\/$/, ''),
            tokenUrl: v.FCM_TOKEN_URL ?? null,
          }
        : null,
      sms: v.SMS_GATEWAY_URL ? { url: v.SMS_GATEWAY_URL, auth: v.SMS_GATEWAY_AUTH ?? null, body: v.SMS_GATEWAY_BODY } : null,
    },
    /** Browsers' push endpoints must be https; tests may subscribe a loopback http endpoint (never in production). */
    webPushAllowHttp: v.WEBPUSH_ALLOW_HTTP,
    /**
     * The durable job queue (pg-boss): how often each node's workers look for due jobs, how often expired tries are
     * failed (and so retried) and old jobs archived, how often the queue gauges are refreshed, and how long an
     * import may run before its node is taken for dead and another resumes it.
     */
    jobs: { pollMs: v.JOBS_POLL_MS, maintenanceS: v.JOBS_MAINTENANCE_S, metricsS: v.JOBS_METRICS_S, importTimeoutS: v.IMPORT_TIMEOUT_S },
    /** Messages to people (email, SMS, push): tries per delivery and the exponential backoff between them. */
    deliveries: { maxAttempts: v.DELIVERY_MAX_ATTEMPTS, retryBaseMs: v.DELIVERY_RETRY_BASE_MS, retryMaxMs: v.DELIVERY_RETRY_MAX_MS },
    usingDevSecret: !v.JWT_SECRET,
    /** A module whose `registrations` are mounted beside the protocol's: instrumented events for multi-process tests. */
    testHandlers: v.TEST_HANDLERS ?? null,
  }));

export type Config = z.output<typeof env>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parses the environment; the error names the first bad variable and what is wrong with it. */
export function loadConfig(source: Record<string, string | undefined> = process.env): Config {
  const blanksRemoved = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== ''));
  const parsed = env.safeParse(blanksRemoved);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const name = String(issue.path[0] ?? 'environment');
  const value = source[name];
  const shown =
    value === undefined ? 'it is not set' : /SECRET|PASSWORD|TOKEN|KEY|AUTH|SMTP_URL/.test(name) ? 'got a hidden value' : `got ${JSON.stringify(value)}`;
  throw new ConfigError(`config: ${name} ${issue.message.replace(/^Invalid input: /, '')} (${shown})`);
}
