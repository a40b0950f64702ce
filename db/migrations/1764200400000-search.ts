import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Search1764200400000 implements MigrationInterface {
  name = 'Search1764200400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      -- The zones a product is sold in, on its own row (sorted), so a search filters its matches by zone as it reads
      -- them instead of looking each one up in product_zones. product_zones stays the source; the triggers below keep
      -- the copy in step, whichever code (or a bulk statement) changes it.
      ALTER TABLE products ADD COLUMN zone_ids uuid[] NOT NULL DEFAULT '{}';
      UPDATE products p SET zone_ids = z.ids
        FROM (SELECT product_id, array_agg(zone_id ORDER BY zone_id) AS ids FROM product_zones GROUP BY product_id) z
       WHERE z.product_id = p.id;

      -- Once per statement, so an import or a vendor's re-zoning rewrites each product it touches once.
      CREATE FUNCTION lilium_copy_product_zones() RETURNS trigger LANGUAGE plpgsql AS $fn$
      BEGIN
        IF TG_OP = 'INSERT' THEN
          UPDATE products p SET zone_ids = coalesce((SELECT array_agg(pz.zone_id ORDER BY pz.zone_id) FROM product_zones pz WHERE pz.product_id = p.id), '{}')
           WHERE p.id IN (SELECT product_id FROM changed_new);
        ELSIF TG_OP = 'DELETE' THEN
          UPDATE products p SET zone_ids = coalesce((SELECT array_agg(pz.zone_id ORDER BY pz.zone_id) FROM product_zones pz WHERE pz.product_id = p.id), '{}')
           WHERE p.id IN (SELECT product_id FROM changed_old);
        ELSE
          UPDATE products p SET zone_ids = coalesce((SELECT array_agg(pz.zone_id ORDER BY pz.zone_id) FROM product_zones pz WHERE pz.product_id = p.id), '{}')
           WHERE p.id IN (SELECT product_id FROM changed_new UNION SELECT product_id FROM changed_old);
        END IF;
        RETURN NULL;
      END
      $fn$;
      CREATE TRIGGER product_zones_copy_insert AFTER INSERT ON product_zones REFERENCING NEW TABLE AS changed_new
        FOR EACH STATEMENT EXECUTE FUNCTION lilium_copy_product_zones();
      CREATE TRIGGER product_zones_copy_update AFTER UPDATE ON product_zones REFERENCING OLD TABLE AS changed_old NEW TABLE AS changed_new
        FOR EACH STATEMENT EXECUTE FUNCTION lilium_copy_product_zones();
      CREATE TRIGGER product_zones_copy_delete AFTER DELETE ON product_zones REFERENCING OLD TABLE AS changed_old
        FOR EACH STATEMENT EXECUTE FUNCTION lilium_copy_product_zones();
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP TRIGGER product_zones_copy_delete ON product_zones;
      DROP TRIGGER product_zones_copy_update ON product_zones;
      DROP TRIGGER product_zones_copy_insert ON product_zones;
      DROP FUNCTION lilium_copy_product_zones();
      ALTER TABLE products DROP COLUMN zone_ids;
    `);
  }
}
