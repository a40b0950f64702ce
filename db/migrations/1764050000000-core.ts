import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Core1764050000000 implements MigrationInterface {
  name = 'Core1764050000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE zones (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        code text NOT NULL UNIQUE,
        name_ar text NOT NULL,
        name_en text NOT NULL,
        active boolean NOT NULL DEFAULT true,
        created_at timestamptz NOT NULL DEFAULT now()
      );

      CREATE TABLE vendors (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL,
        status text NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'APPROVED', 'REJECTED', 'SUSPENDED')),
        commission_bps integer NOT NULL CHECK (commission_bps BETWEEN 0 AND 10000),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );

      CREATE TABLE vendor_zones (
        vendor_id uuid NOT NULL REFERENCES vendors(id) ON DELETE CASCADE,
        zone_id uuid NOT NULL REFERENCES zones(id),
        delivery_fee_minor bigint NOT NULL CHECK (delivery_fee_minor >= 0),
        min_order_minor bigint NOT NULL CHECK (min_order_minor >= 0),
        PRIMARY KEY (vendor_id, zone_id)
      );

      CREATE TABLE users (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        role text NOT NULL CHECK (role IN ('SUPER_ADMIN', 'ADMIN', 'COMPANY_MANAGER', 'VENDOR', 'SHOP_OWNER', 'DRIVER')),
        name text NOT NULL,
        email text,
        phone text,
        password_hash text NOT NULL,
        status text NOT NULL DEFAULT 'ACTIVE' CHECK (status IN ('ACTIVE', 'DISABLED')),
        vendor_id uuid REFERENCES vendors(id),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        deleted_at timestamptz,
        CHECK (email IS NOT NULL OR phone IS NOT NULL),
        CHECK ((role IN ('COMPANY_MANAGER', 'VENDOR')) = (vendor_id IS NOT NULL) OR role = 'DRIVER')
      );
      CREATE UNIQUE INDEX users_email_key ON users (lower(email)) WHERE email IS NOT NULL AND deleted_at IS NULL;
      CREATE UNIQUE INDEX users_phone_key ON users (phone) WHERE phone IS NOT NULL AND deleted_at IS NULL;
      CREATE INDEX users_vendor_idx ON users (vendor_id) WHERE vendor_id IS NOT NULL;

      CREATE TABLE user_zones (
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        zone_id uuid NOT NULL REFERENCES zones(id),
        PRIMARY KEY (user_id, zone_id)
      );
      CREATE INDEX user_zones_zone_idx ON user_zones (zone_id);

      CREATE TABLE shops (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        owner_id uuid NOT NULL UNIQUE REFERENCES users(id),
        name text NOT NULL,
        zone_id uuid NOT NULL REFERENCES zones(id),
        created_at timestamptz NOT NULL DEFAULT now()
      );

      -- A session is one login: the family of refresh tokens that rotate from it.
      CREATE TABLE sessions (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id uuid NOT NULL REFERENCES users(id),
        app text NOT NULL CHECK (app IN ('mobile', 'dashboard', 'driver')),
        created_at timestamptz NOT NULL DEFAULT now(),
        revoked_at timestamptz,
        revoked_reason text
      );
      CREATE INDEX sessions_user_idx ON sessions (user_id) WHERE revoked_at IS NULL;

      CREATE TABLE refresh_tokens (
        token_hash text PRIMARY KEY,
        session_id uuid NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        used_at timestamptz
      );
      CREATE INDEX refresh_tokens_session_idx ON refresh_tokens (session_id);

      CREATE TABLE categories (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        parent_id uuid REFERENCES categories(id),
        name_ar text NOT NULL,
        name_en text NOT NULL,
        slug text NOT NULL UNIQUE,
        position integer NOT NULL DEFAULT 0,
        image_url text,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX categories_parent_idx ON categories (parent_id, position);

      CREATE TABLE products (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        vendor_id uuid NOT NULL REFERENCES vendors(id),
        category_id uuid NOT NULL REFERENCES categories(id),
        sku text NOT NULL,
        name_ar text NOT NULL,
        name_en text NOT NULL,
        description_ar text NOT NULL DEFAULT '',
        description_en text NOT NULL DEFAULT '',
        unit text NOT NULL CHECK (unit IN ('PIECE', 'PACK', 'CARTON')),
        units_per_pack integer NOT NULL DEFAULT 1 CHECK (units_per_pack >= 1),
        price_minor bigint NOT NULL CHECK (price_minor >= 0),
        compare_at_minor bigint CHECK (compare_at_minor >= 0),
        min_order_qty integer NOT NULL DEFAULT 1 CHECK (min_order_qty >= 1),
        stock integer NOT NULL DEFAULT 0 CHECK (stock >= 0),
        low_stock_threshold integer NOT NULL DEFAULT 0 CHECK (low_stock_threshold >= 0),
        featured boolean NOT NULL DEFAULT false,
        status text NOT NULL DEFAULT 'ACTIVE' CHECK (status IN ('ACTIVE', 'DRAFT')),
        images text[] NOT NULL DEFAULT '{}',
        sold_count integer NOT NULL DEFAULT 0,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        deleted_at timestamptz,
        UNIQUE (vendor_id, sku)
      );
      CREATE INDEX products_category_idx ON products (category_id);

      CREATE TABLE product_zones (
        product_id uuid NOT NULL REFERENCES products(id) ON DELETE CASCADE,
        zone_id uuid NOT NULL REFERENCES zones(id),
        PRIMARY KEY (product_id, zone_id)
      );
      CREATE INDEX product_zones_zone_idx ON product_zones (zone_id, product_id);

      -- A retried call with the same key replays the stored result; the row is written in the
      -- call's own transaction, so a racing twin blocks on it until the first commits or rolls back.
      CREATE TABLE idempotency_keys (
        user_id uuid NOT NULL,
        key text NOT NULL,
        event text NOT NULL,
        request_hash text NOT NULL,
        result jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (user_id, key)
      );
      CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP TABLE idempotency_keys;
      DROP TABLE product_zones;
      DROP TABLE products;
      DROP TABLE categories;
      DROP TABLE refresh_tokens;
      DROP TABLE sessions;
      DROP TABLE shops;
      DROP TABLE user_zones;
      DROP TABLE users;
      DROP TABLE vendor_zones;
      DROP TABLE vendors;
      DROP TABLE zones;
    `);
  }
}
