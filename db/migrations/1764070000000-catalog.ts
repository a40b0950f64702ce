import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Catalog1764070000000 implements MigrationInterface {
  name = 'Catalog1764070000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE EXTENSION IF NOT EXISTS pg_trgm;

      -- How shops type Arabic: hamza forms of alef, taa marbuta, alef maqsura, Persian letters,
      -- diacritics and tatweel all fold to one spelling; Latin letters fold to lower case.
      CREATE FUNCTION lilium_normalize(t text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$
        SELECT lower(translate(regexp_replace(coalesce(t, ''), '[\\u064B-\\u065F\\u0670\\u0640]', '', 'g'), 'أإآٱةىؤئیک', 'ااااهيوييك'))
      $fn$;

      -- The rate that applies to an order is the one in force when it was placed.
      CREATE TABLE vendor_commissions (
        id bigserial PRIMARY KEY,
        vendor_id uuid NOT NULL REFERENCES vendors(id) ON DELETE CASCADE,
        commission_bps integer NOT NULL CHECK (commission_bps BETWEEN 0 AND 10000),
        effective_from timestamptz NOT NULL DEFAULT now(),
        set_by uuid
      );
      CREATE INDEX vendor_commissions_idx ON vendor_commissions (vendor_id, effective_from DESC);
      INSERT INTO vendor_commissions (vendor_id, commission_bps, effective_from) SELECT id, commission_bps, created_at FROM vendors;

      ALTER TABLE vendors ADD COLUMN status_reason text;

      ALTER TABLE products
        ADD COLUMN search_text text GENERATED ALWAYS AS (lilium_normalize(name_ar || ' ' || name_en || ' ' || sku)) STORED,
        ADD COLUMN search_tsv tsvector GENERATED ALWAYS AS (
          setweight(to_tsvector('simple', lilium_normalize(name_ar || ' ' || name_en || ' ' || sku)), 'A') ||
          setweight(to_tsvector('english', name_en), 'B') ||
          setweight(to_tsvector('simple', lilium_normalize(description_ar || ' ' || description_en)), 'C')
        ) STORED;
      CREATE INDEX products_search_trgm ON products USING gin (search_text gin_trgm_ops);
      CREATE INDEX products_search_tsv ON products USING gin (search_tsv);
      CREATE INDEX products_vendor_idx ON products (vendor_id, created_at DESC);
      CREATE INDEX products_listing_idx ON products (price_minor, id) WHERE status = 'ACTIVE' AND deleted_at IS NULL;
      CREATE INDEX products_newest_idx ON products (created_at DESC, id DESC) WHERE status = 'ACTIVE' AND deleted_at IS NULL;

      -- Every stock movement, with why, who, and the level it left.
      CREATE TABLE stock_history (
        id bigserial PRIMARY KEY,
        product_id uuid NOT NULL REFERENCES products(id),
        delta integer NOT NULL,
        stock_after integer NOT NULL CHECK (stock_after >= 0),
        reason text NOT NULL,
        actor_id uuid,
        ref text,
        at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX stock_history_product_idx ON stock_history (product_id, id DESC);

      -- Products whose stock:changed push is due; the sequencer coalesces bursts.
      CREATE TABLE stock_dirty (
        product_id uuid PRIMARY KEY REFERENCES products(id) ON DELETE CASCADE,
        marked_at timestamptz NOT NULL DEFAULT now()
      );

      -- Pushes that report stored changes. Rows are written with the change; seq is given after
      -- commit by the single sequencer, so seq order is the order in which rows became visible.
      CREATE TABLE outbox (
        id bigserial PRIMARY KEY,
        seq bigint UNIQUE,
        rooms text[] NOT NULL,
        event text NOT NULL,
        data jsonb NOT NULL,
        at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX outbox_unsequenced_idx ON outbox (id) WHERE seq IS NULL;
      CREATE INDEX outbox_rooms_idx ON outbox USING gin (rooms);
      CREATE INDEX outbox_at_idx ON outbox (at);

      CREATE TABLE uploads (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        owner_id uuid NOT NULL REFERENCES users(id),
        kind text NOT NULL CHECK (kind IN ('image', 'csv')),
        path text NOT NULL UNIQUE,
        mime text NOT NULL,
        bytes integer NOT NULL,
        thumb_path text,
        created_at timestamptz NOT NULL DEFAULT now(),
        attached_at timestamptz
      );
      CREATE INDEX uploads_orphans_idx ON uploads (created_at) WHERE attached_at IS NULL;

      CREATE TABLE import_jobs (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        vendor_id uuid NOT NULL REFERENCES vendors(id),
        upload_id uuid NOT NULL REFERENCES uploads(id),
        actor_id uuid NOT NULL,
        mode text NOT NULL CHECK (mode IN ('all-or-nothing', 'partial')),
        status text NOT NULL CHECK (status IN ('RUNNING', 'DONE', 'FAILED')),
        total integer NOT NULL DEFAULT 0,
        created integer NOT NULL DEFAULT 0,
        updated integer NOT NULL DEFAULT 0,
        errors jsonb NOT NULL DEFAULT '[]',
        created_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz
      );
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP TABLE import_jobs;
      DROP TABLE uploads;
      DROP TABLE outbox;
      DROP TABLE stock_dirty;
      DROP TABLE stock_history;
      DROP INDEX products_newest_idx;
      DROP INDEX products_listing_idx;
      DROP INDEX products_vendor_idx;
      DROP INDEX products_search_tsv;
      DROP INDEX products_search_trgm;
      ALTER TABLE products DROP COLUMN search_tsv, DROP COLUMN search_text;
      ALTER TABLE vendors DROP COLUMN status_reason;
      DROP TABLE vendor_commissions;
      DROP FUNCTION lilium_normalize(text);
    `);
  }
}
