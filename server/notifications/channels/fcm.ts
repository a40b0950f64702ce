import { readFileSync } from 'node:fs';
import jwt from 'jsonwebtoken';
import { z } from 'zod';
import { sql } from '../../../db/sql.js';
import type { DeviceRow } from '../../../db/tables.js';
import type { Config } from '../../config.js';
import type { Deps } from '../../deps.js';
import { StartRefused } from '../../startup.js';
import { DeliveryError, type ChannelProvider, type OutboundMessage } from './channel.js';
import { settleAll } from './fanout.js';
import { accepted, post, refusal, type Answer } from './http.js';

type FcmConfig = NonNullable<Config['channels']['fcm']>;

const SERVICE = 'FCM';
const TOKEN_SERVICE = 'the FCM token endpoint';
const SCOPE = 'https://www.googleapis.com/auth/firebase.messaging';
/** An access token is renewed this long before it expires, so none expires on the way. */
const RENEW_BEFORE_MS = 60_000;

/** The fields of a Google service-account key file that the JWT grant needs. */
const ServiceAccount = z.object({
  client_email: z.string().min(1),
  private_key: z.string().includes('PRIVATE KEY'),
  private_key_id: z.string().optional(),
  project_id: z.string().min(1).optional(),
  token_uri: z.url().optional(),
});
type ServiceAccount = z.infer<typeof ServiceAccount>;

function readServiceAccount(file: string): ServiceAccount {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new StartRefused(`FCM_CREDENTIALS_FILE cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  let parsed: ReturnType<typeof ServiceAccount.safeParse>;
  try {
    parsed = ServiceAccount.safeParse(JSON.parse(text));
  } catch {
    throw new StartRefused('FCM_CREDENTIALS_FILE is not JSON (expected a service-account key file)');
  }
  if (!parsed.success)
    throw new StartRefused(`FCM_CREDENTIALS_FILE is not a service-account key file (${parsed.error.issues[0]!.path.join('.')} is missing or wrong)`);
  return parsed.data;
}

const TokenAnswer = z.object({ access_token: z.string().min(1), expires_in: z.number().positive() });

/** OAuth2 access tokens from the service account's JWT grant (RFC 7523), one request at a time, kept until shortly before they expire. */
class AccessTokens {
  private current: { token: string; expiresAt: number } | null = null;
  private pending: Promise<string> | null = null;

  constructor(
    private readonly account: ServiceAccount,
    private readonly tokenUrl: string,
    private readonly timeoutMs: number,
  ) {}

  get(): Promise<string> {
    if (this.current && this.current.expiresAt - RENEW_BEFORE_MS > Date.now()) return Promise.resolve(this.current.token);
    return (this.pending ??= this.fetch().finally(() => (this.pending = null)));
  }

  /** FCM refused the token (revoked, or the clock moved): the next send asks for a new one. */
  drop(): void {
    this.current = null;
  }

  private async fetch(): Promise<string> {
    const assertion = jwt.sign({ scope: SCOPE }, this.account.private_key, {
      algorithm: 'RS256',
      issuer: this.account.client_email,
      audience: this.tokenUrl,
      expiresIn: 3600,
      ...(this.account.private_key_id ? { keyid: this.account.private_key_id } : {}),
    });
    const body = new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion }).toString();
    const answer = await post(TOKEN_SERVICE, this.tokenUrl, { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body }, this.timeoutMs);
    if (!accepted(answer)) throw refusal(TOKEN_SERVICE, answer);
    const parsed = TokenAnswer.safeParse(jsonOf(answer));
    if (!parsed.success) throw new DeliveryError(`${TOKEN_SERVICE} answered without an access token`, true);
    this.current = { token: parsed.data.access_token, expiresAt: Date.now() + parsed.data.expires_in * 1000 };
    return this.current.token;
  }
}

function jsonOf(a: Answer): unknown {
  try {
    return JSON.parse(a.text);
  } catch {
    return null;
  }
}

/** FCM's error body: `error.status` and, in `details`, the FcmError `errorCode` and BadRequest field violations. */
const FcmError = z.object({
  error: z.object({
    status: z.string().optional(),
    message: z.string().optional(),
    details: z
      .array(z.object({ errorCode: z.string().optional(), fieldViolations: z.array(z.object({ field: z.string().optional() })).optional() }))
      .optional(),
  }),
});

/** Why FCM refused a send: its error code, and whether the token itself is what it will never accept. */
function fcmFailure(a: Answer): { code: string; tokenGone: boolean } {
  const parsed = FcmError.safeParse(jsonOf(a));
  const error = parsed.success ? parsed.data.error : {};
  const code = error.details?.find((d) => d.errorCode)?.errorCode ?? error.status ?? '';
  const aboutToken =
    (error.details ?? []).some((d) => d.fieldViolations?.some((f) => f.field === 'message.token')) || /registration token/i.test(error.message ?? '');
  const tokenGone =
    a.status === 404 || code === 'UNREGISTERED' || code === 'SENDER_ID_MISMATCH' || (a.status === 400 && code === 'INVALID_ARGUMENT' && aboutToken);
  return { code, tokenGone };
}

/** The FCM v1 message: a notification the phone shows, the data the app reads, collapsed on the delivery id so a retry replaces itself. */
const messageOf = (token: string, m: OutboundMessage) => ({
  message: {
    token,
    notification: { title: m.title, body: m.body },
    data: { ...m.data, deliveryId: m.id, ...(m.url ? { url: m.url } : {}) },
    android: { collapse_key: m.id },
    apns: { headers: { 'apns-collapse-id': m.id } },
  },
});

/**
 * Mobile push through FCM HTTP v1 to each of a user's registered phones. Tokens FCM says are gone (unregistered,
 * not valid, of another sender) are removed.
 */
export function createFcmProvider(deps: Pick<Deps, 'db'>, config: FcmConfig, timeoutMs: number): ChannelProvider {
  const account = readServiceAccount(config.credentialsFile);
  const projectId = config.projectId ?? account.project_id;
  if (!projectId) throw new StartRefused('FCM_PROJECT_ID is required: FCM_CREDENTIALS_FILE names no project_id');
  const tokens = new AccessTokens(account, config.tokenUrl ?? account.token_uri ?? 'https://oauth2.googleapis.com/token', timeoutMs);
  const url = `${config.endpoint}/v1/projects/${encodeURIComponent(projectId)}/messages:send`;

  async function sendOne(token: string, m: OutboundMessage): Promise<void> {
    const bearer = await tokens.get();
    const answer = await post(
      SERVICE,
      url,
      { headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' }, body: JSON.stringify(messageOf(token, m)) },
      timeoutMs,
    );
    if (accepted(answer)) return;
    if (answer.status === 401) {
      tokens.drop();
      throw new DeliveryError(`${SERVICE} refused the access token`, true);
    }
    const { code, tokenGone } = fcmFailure(answer);
    if (tokenGone) return void (await deps.db.query(sql`DELETE FROM devices WHERE token = ${token}`));
    throw refusal(SERVICE, answer, code);
  }

  return {
    channel: 'push',
    async send({ userId }, m) {
      if (!userId) throw new DeliveryError('a push needs a user', false);
      const devices = await deps.db.query<Pick<DeviceRow, 'token'>>(sql`SELECT token FROM devices WHERE user_id = ${userId}`);
      await settleAll(devices.map((d) => sendOne(d.token, m)));
    },
  };
}
