import { parseArgs } from 'node:util';
import { ConfigError, DEFAULT_DEMO_PASSWORD, loadConfig } from '../server/config.js';
import { readPasswordFile } from '../server/startup.js';
import { createDataSource } from './data-source.js';
import { AdminError, createFirstAdmin, retireDemoLogins } from './seed/admins.js';
import { seedIfEmpty } from './seed/seed.js';
import { withStartupLock } from './startup-lock.js';
import { Db } from './tx.js';

const usage = `usage: npm run db -- <command>
  migrate                 run the pending migrations
  revert                  revert the last migration
  seed                    migrate, then seed the demo data into an empty database (not in production)
  create-admin --email E [--name N] [--password-file F]
                          migrate, then create the first SUPER_ADMIN (only while no admin exists); the
                          password is read from F, or asked for on the terminal, or read from stdin
  retire-demo-logins      disable every demo login that still has the demo password
`;

function fail(message: string, code = 1): never {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

const command = process.argv[2] ?? '';
if (!['migrate', 'revert', 'seed', 'create-admin', 'retire-demo-logins'].includes(command)) fail(usage, 2);
let options: { email?: string; name?: string; 'password-file'?: string };
try {
  options = parseArgs({
    args: process.argv.slice(3),
    options: { email: { type: 'string' }, name: { type: 'string' }, 'password-file': { type: 'string' } },
    strict: true,
  }).values;
} catch (err) {
  fail(`${command}: ${(err as Error).message}\n${usage}`, 2);
}
if (command === 'create-admin' && !options.email) fail(`create-admin: --email is required\n${usage}`, 2);

let config: ReturnType<typeof loadConfig>;
try {
  config = loadConfig();
} catch (err) {
  if (err instanceof ConfigError) fail(err.message);
  throw err;
}
if (command === 'seed' && config.env === 'production') fail('seed: production never seeds demo data (NODE_ENV=production)');

// Asked before the database is opened, so nobody waits on a lock while typing.
const password = command === 'create-admin' ? await adminPassword(options['password-file']) : '';

const source = createDataSource(config.database);
await source.initialize();
const db = new Db(source, config.database.kind);
try {
  if (command === 'revert') {
    await withStartupLock(config.database, () => source.undoLastMigration());
    process.stdout.write('reverted the last migration\n');
  } else {
    await withStartupLock(config.database, async () => {
      const ran = await source.runMigrations();
      process.stdout.write(`migrations run: ${ran.map((m) => m.name).join(', ') || 'none'}\n`);
      if (command === 'seed') {
        const seeded = await seedIfEmpty(db, config);
        process.stdout.write(seeded ? 'seeded the demo data\n' : 'the database already has users; not seeding\n');
      }
      if (command === 'create-admin') {
        const email = options.email!;
        const outcome = await createFirstAdmin(db, { email, name: options.name ?? 'Administrator', password }, config.bcryptCost);
        if (outcome === 'admin-exists') throw new AdminError('an admin already exists; admins create further accounts with users:create');
        process.stdout.write(`created SUPER_ADMIN ${email.toLowerCase()}\n`);
      }
    });
    if (command === 'retire-demo-logins') {
      const retired = await retireDemoLogins(db, [DEFAULT_DEMO_PASSWORD, config.demoPassword], config.bcryptCost);
      process.stdout.write(`retired ${retired.length} demo login(s)${retired.length ? `: ${retired.join(', ')}` : ''}\n`);
    }
  }
} catch (err) {
  if (err instanceof AdminError) {
    process.exitCode = 1;
    process.stderr.write(`${command}: ${err.message}\n`);
  } else throw err;
} finally {
  await source.destroy();
}

/** From a file, or typed twice on a terminal without echo, or piped on stdin; never a default. */
async function adminPassword(file: string | undefined): Promise<string> {
  if (file) {
    try {
      return await readPasswordFile(file);
    } catch (err) {
      fail(`create-admin: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
  if (!process.stdin.isTTY) {
    let text = '';
    for await (const chunk of process.stdin) text += String(chunk);
    return text.replace(/\r?\n$/, '');
  }
  const first = await askHidden('password for the new super admin: ');
  if ((await askHidden('again: ')) !== first) fail('create-admin: the passwords differ');
  return first;
}

/** One line from the terminal in raw mode, so nothing typed is echoed. */
function askHidden(prompt: string): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(prompt);
  stdin.setRawMode(true);
  stdin.setEncoding('utf8');
  stdin.resume();
  return new Promise((resolve) => {
    let value = '';
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\u0003' || ch === '\u0004') {
          stdin.setRawMode(false);
          fail('\ncancelled', 130);
        }
        if (ch === '\r' || ch === '\n') {
          stdin.off('data', onData);
          stdin.setRawMode(false);
          stdin.pause();
          process.stderr.write('\n');
          return resolve(value);
        }
        value = ch === '\u007f' || ch === '\b' ? value.slice(0, -1) : value + ch;
      }
    };
    stdin.on('data', onData);
  });
}
