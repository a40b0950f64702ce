import { resolve } from 'node:path';
import { demoLogins } from '../db/seed/seed.js';
import { createApp } from './app.js';
import { ConfigError, DEFAULT_DEMO_PASSWORD, loadConfig, type Config } from './config.js';
import { UwsUnavailable } from './http/uws.js';
import { createLogger } from './logger.js';
import type { Registration } from './rpc/rpc.js';
import { StartRefused } from './startup.js';

function configOrExit(): Config {
  try {
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
}

const config = configOrExit();
const log = createLogger(config.logLevel);
if (config.usingDevSecret) log.warn('JWT_SECRET is not set: signing with a development secret generated for this database (never do this in production)');

let app: Awaited<ReturnType<typeof createApp>>;
try {
  const extraHandlers = config.testHandlers ? ((await import(resolve(config.testHandlers))) as { registrations: Registration[] }).registrations : [];
  app = await createApp(config, { log, extraHandlers });
} catch (err) {
  // A refusal is the operator's to fix, not a crash: the one line below is the whole story.
  if (!(err instanceof StartRefused || err instanceof UwsUnavailable)) log.fatal({ err }, 'cannot start');
  process.stderr.write(`lilium: cannot start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}

const db = config.database.kind === 'postgres' ? 'PostgreSQL' : `embedded PGlite in ${config.database.dir}`;
process.stdout.write(
  [
    `Lilium listening on ${app.url} (database: ${db}; ${config.redis ? 'Redis adapter' : 'single node, in-memory adapter'})`,
    `  health ${app.url}/health   ready ${app.url}/ready   metrics ${app.url}/metrics   AsyncAPI ${app.url}/asyncapi.json   docs ${app.url}/docs`,
    // Production never seeds, so it has no demo logins to advertise.
    ...(config.env === 'production'
      ? []
      : [
          app.seeded ? '  seeded the demo data; demo logins:' : '  demo logins (when the demo data was seeded):',
          ...demoLogins.map((d) => `    ${d.email.padEnd(26)} ${d.role.padEnd(16)} ${d.note}`),
          `  password: ${config.demoPassword === DEFAULT_DEMO_PASSWORD ? DEFAULT_DEMO_PASSWORD : '(DEMO_PASSWORD)'}`,
        ]),
    '',
  ].join('\n'),
);

let stopping = false;
function stop(signal: string): void {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'draining');
  // Whatever happens, the process is gone within 10 s.
  setTimeout(() => {
    log.error('shutdown took too long; exiting');
    process.exit(1);
  }, 9_500).unref();
  app.close().then(
    () => {
      log.info('stopped');
      process.exit(0);
    },
    (err: unknown) => {
      log.error({ err }, 'shutdown failed');
      process.exit(1);
    },
  );
}
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
