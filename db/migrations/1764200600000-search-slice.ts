import type { MigrationInterface, QueryRunner } from 'typeorm';

export class SearchSlice1764200600000 implements MigrationInterface {
  name = 'SearchSlice1764200600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      -- A fixed quarter of the catalogue (by the last two bits of the product's id, which never changes), with its own
      -- full-text and trigram indexes. A search by relevance ranks at most its first 500 (typos: 200) matches as read;
      -- GIN can only answer by gathering every matching TID into a bitmap first, so a common word used to collect all
      -- of its (say 11,000) matches to rank 500 of them. Read from this quarter first, it collects a quarter of them
      -- and stops there when they are enough; only a rarer word goes on to the rest (products.service.ts, SEARCH_SLICE:
      -- the same expression, or the planner cannot use these indexes).
      CREATE INDEX products_search_tsv_slice ON products USING gin (search_tsv) WHERE get_byte(uuid_send(id), 15) & 3 = 0;
      CREATE INDEX products_search_trgm_slice ON products USING gin (search_text gin_trgm_ops) WHERE get_byte(uuid_send(id), 15) & 3 = 0;
      -- Without statistics on the expression the planner takes it to keep 0.5 % of the rows and, expecting a handful
      -- of matches, reads the whole quarter's matches into a nested loop instead of stopping at the 500th.
      CREATE STATISTICS products_search_slice ON (get_byte(uuid_send(id), 15) & 3) FROM products;
      ANALYZE products;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP STATISTICS products_search_slice;
      DROP INDEX products_search_trgm_slice;
      DROP INDEX products_search_tsv_slice;
    `);
  }
}
