import { loadConfig } from '../server/config.js';
import { createDataSource } from './data-source.js';
import { seedIfEmpty } from './seed/seed.js';
import { Db } from './tx.js';

/** `npm run db -- migrate | revert | seed`: the schema and demo data without starting the server. */
const command = process.argv[2];
if (!['migrate', 'revert', 'seed'].includes(command ?? '')) {
  process.stderr.write('usage: npm run db -- migrate | revert | seed\n');
  process.exit(2);
}
const config = loadConfig();
const source = createDataSource(config.database);
await source.initialize();
try {
  if (command === 'revert') {
    await source.undoLastMigration();
    process.stdout.write('reverted the last migration\n');
  } else {
    const ran = await source.runMigrations();
    process.stdout.write(`migrations run: ${ran.map((m) => m.name).join(', ') || 'none'}\n`);
    if (command === 'seed') {
      const seeded = await seedIfEmpty(new Db(source, config.database.kind), config);
      process.stdout.write(seeded ? 'seeded the demo data\n' : 'the database already has users; not seeding\n');
    }
  }
} finally {
  await source.destroy();
}
