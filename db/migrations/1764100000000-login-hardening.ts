import type { MigrationInterface, QueryRunner } from 'typeorm';

const EMAIL = `'^[^@[:space:]]+@[^@[:space:]]+$'`;
const E164 = `'^\\+[1-9][0-9]{6,14}$'`;

/** Clears `column` on the rows `bad` selects (id, value) and notes each cleared value in the audit log. */
const clear = (column: 'email' | 'phone', reason: string, bad: string) => `
  WITH bad AS (${bad}),
  cleared AS (UPDATE users u SET ${column} = NULL FROM bad WHERE u.id = bad.id RETURNING u.id)
  INSERT INTO audit_log (action, target_type, target_id, details)
  SELECT 'LOGIN_CLEARED', 'user', bad.id::text, jsonb_build_object('column', '${column}', 'value', bad.value, 'reason', '${reason}')
    FROM bad JOIN cleared ON cleared.id = bad.id`;

/** Holders of a value but the oldest, among live accounts that keep the other login. */
const duplicates = (column: 'email' | 'phone', other: 'email' | 'phone') => `
  SELECT id, value FROM (
    SELECT id, ${column} AS value, ${other} AS other, row_number() OVER (PARTITION BY ${column} ORDER BY created_at, id) AS n
      FROM users WHERE ${column} IS NOT NULL AND deleted_at IS NULL
  ) ranked WHERE n > 1 AND other IS NOT NULL`;

/**
 * A login names one account: emails are stored trimmed and lowercase, phones in E.164, each unique,
 * and the two shapes can never meet (an email has an @, a phone is + and digits), so one account's
 * phone cannot be another's email. Existing data is normalised first; a value that cannot be a login,
 * or that a younger account shares with an older one, is cleared where the account keeps its other
 * login (noted in audit_log as LOGIN_CLEARED); anything left that cannot be fixed stops the migration
 * and names the accounts to fix by hand.
 *
 * Failed logins are now counted per account (`account:<id>`) and per typed login only when it names
 * no account (`login:<login>`).
 */
export class LoginHardening1764100000000 implements MigrationInterface {
  name = 'LoginHardening1764100000000';

  async up(q: QueryRunner): Promise<void> {
    // Normalising can make two spellings of one login equal: the unique indexes come back once duplicates are settled.
    await q.query(`DROP INDEX users_email_key; DROP INDEX users_phone_key;`);
    await q.query(`UPDATE users SET email = lower(btrim(email)) WHERE email <> lower(btrim(email))`);
    await q.query(`
      UPDATE users SET phone = normalised
        FROM (SELECT id, regexp_replace(regexp_replace(phone, '[[:space:]().-]', '', 'g'), '^00', '+') AS normalised FROM users) n
       WHERE n.id = users.id AND phone <> normalised AND normalised ~ ${E164}`);
    // A deleted account never signs in again: a value of its that cannot be a login goes, and where it would be left
    // with none (a row needs one), it gets a placeholder email that can never be typed as anyone's.
    await q.query(`
      WITH bad AS (SELECT id, email, phone FROM users WHERE deleted_at IS NOT NULL AND (phone !~ ${E164} OR email !~ ${EMAIL})),
      fixed AS (
        UPDATE users u SET phone = CASE WHEN u.phone ~ ${E164} THEN u.phone END,
               email = CASE WHEN u.email ~ ${EMAIL} THEN u.email WHEN u.phone ~ ${E164} THEN NULL ELSE 'deleted-' || u.id || '@deleted.invalid' END
          FROM bad WHERE u.id = bad.id RETURNING u.id)
      INSERT INTO audit_log (action, target_type, target_id, details)
      SELECT 'LOGIN_CLEARED', 'user', bad.id::text, jsonb_build_object('email', bad.email, 'phone', bad.phone, 'reason', 'deleted account')
        FROM bad JOIN fixed ON fixed.id = bad.id`);
    await q.query(clear('phone', 'invalid', `SELECT id, phone AS value FROM users WHERE phone !~ ${E164} AND email ~ ${EMAIL}`));
    await q.query(clear('email', 'invalid', `SELECT id, email AS value FROM users WHERE email !~ ${EMAIL} AND phone ~ ${E164}`));
    await q.query(clear('phone', 'duplicate', duplicates('phone', 'email')));
    await q.query(clear('email', 'duplicate', duplicates('email', 'phone')));
    const stuck: Array<{ id: string }> = await q.query(`
      SELECT id FROM users WHERE phone !~ ${E164} OR email !~ ${EMAIL}
      UNION SELECT id FROM (SELECT id, count(*) OVER (PARTITION BY phone) AS n FROM users WHERE phone IS NOT NULL AND deleted_at IS NULL) p WHERE n > 1
      UNION SELECT id FROM (SELECT id, count(*) OVER (PARTITION BY email) AS n FROM users WHERE email IS NOT NULL AND deleted_at IS NULL) e WHERE n > 1`);
    if (stuck.length) {
      throw new Error(`cannot make logins unique: fix the email or phone of users ${stuck.map((u) => u.id).join(', ')} and run the migration again`);
    }
    await q.query(`
      CREATE UNIQUE INDEX users_email_key ON users (email) WHERE email IS NOT NULL AND deleted_at IS NULL;
      CREATE UNIQUE INDEX users_phone_key ON users (phone) WHERE phone IS NOT NULL AND deleted_at IS NULL;
      ALTER TABLE users
        ADD CONSTRAINT users_email_normalised CHECK (email = lower(btrim(email)) AND email ~ ${EMAIL}),
        ADD CONSTRAINT users_phone_e164 CHECK (phone ~ ${E164});

      UPDATE login_failures f SET login_key = 'account:' || u.id
        FROM users u WHERE u.deleted_at IS NULL AND f.login_key IN (u.email, u.phone);
      UPDATE login_failures SET login_key = 'login:' || login_key WHERE login_key NOT LIKE 'account:%';
      COMMENT ON COLUMN login_failures.login_key IS 'account:<user id> once the login names an account, else login:<the login as typed, normalised>';
      -- An attempt is reserved before its password is checked; it is a failure once the check says so.
      ALTER TABLE login_failures ADD COLUMN pending boolean NOT NULL DEFAULT false;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE login_failures DROP COLUMN pending;
      COMMENT ON COLUMN login_failures.login_key IS NULL;
      UPDATE login_failures f SET login_key = coalesce(u.email, u.phone) FROM users u WHERE f.login_key = 'account:' || u.id;
      UPDATE login_failures SET login_key = substr(login_key, 7) WHERE login_key LIKE 'login:%';

      ALTER TABLE users DROP CONSTRAINT users_phone_e164, DROP CONSTRAINT users_email_normalised;
      DROP INDEX users_email_key;
      CREATE UNIQUE INDEX users_email_key ON users (lower(email)) WHERE email IS NOT NULL AND deleted_at IS NULL;
    `);
  }
}
