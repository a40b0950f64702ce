/** Where the tests find the machine's services; override for another machine. */
export const TEST_PG_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
/** Set by vitest.config.ts for the whole run. */
export const TEST_RUN = process.env.LILIUM_TEST_RUN ?? 'local';
export const TEMPLATE_DB = `lilium_tpl_${TEST_RUN}`;
/** Every test database of this run starts with this. */
export const TEST_DB_PREFIX = `lilium_t_${TEST_RUN}_`;
export { DEFAULT_DEMO_PASSWORD as DEMO_PASSWORD } from '../../server/config.js';

export function dbUrl(name: string): string {
  const url = new URL(TEST_PG_URL);
  url.pathname = `/${name}`;
  return url.toString();
}
