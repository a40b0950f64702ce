import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Ordering1764080000000 implements MigrationInterface {
  name = 'Ordering1764080000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE carts (
        shop_id uuid PRIMARY KEY REFERENCES shops(id),
        coupon_code text,
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      -- added_price is what the owner saw; a later price change is reported until they accept it.
      CREATE TABLE cart_items (
        shop_id uuid NOT NULL REFERENCES shops(id),
        product_id uuid NOT NULL REFERENCES products(id),
        quantity integer NOT NULL CHECK (quantity > 0),
        added_price_minor bigint NOT NULL,
        added_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (shop_id, product_id)
      );

      CREATE TABLE promotions (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        vendor_id uuid REFERENCES vendors(id),
        name_ar text NOT NULL,
        name_en text NOT NULL,
        kind text NOT NULL CHECK (kind IN ('PERCENT', 'FIXED', 'BUY_X_GET_Y', 'TIERED')),
        percent_bps integer CHECK (percent_bps BETWEEN 1 AND 10000),
        amount_minor bigint CHECK (amount_minor > 0),
        buy_qty integer CHECK (buy_qty > 0),
        get_qty integer CHECK (get_qty > 0),
        tiers jsonb,
        min_purchase_minor bigint NOT NULL DEFAULT 0 CHECK (min_purchase_minor >= 0),
        max_discount_minor bigint CHECK (max_discount_minor > 0),
        starts_at timestamptz NOT NULL,
        ends_at timestamptz NOT NULL CHECK (ends_at > starts_at),
        zone_ids uuid[] NOT NULL DEFAULT '{}',
        product_ids uuid[] NOT NULL DEFAULT '{}',
        category_ids uuid[] NOT NULL DEFAULT '{}',
        coupon_code text,
        usage_limit integer CHECK (usage_limit > 0),
        used_count integer NOT NULL DEFAULT 0 CHECK (usage_limit IS NULL OR used_count <= usage_limit),
        active boolean NOT NULL DEFAULT true,
        created_by uuid REFERENCES users(id),
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE UNIQUE INDEX promotions_coupon_idx ON promotions (lower(coupon_code)) WHERE coupon_code IS NOT NULL;
      CREATE INDEX promotions_window_idx ON promotions (ends_at) WHERE active;

      CREATE TABLE checkouts (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        shop_id uuid NOT NULL REFERENCES shops(id),
        created_by uuid NOT NULL REFERENCES users(id),
        created_at timestamptz NOT NULL DEFAULT now()
      );

      CREATE SEQUENCE order_number_seq START 1001;
      CREATE TABLE orders (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        number bigint NOT NULL UNIQUE DEFAULT nextval('order_number_seq'),
        checkout_id uuid NOT NULL REFERENCES checkouts(id),
        shop_id uuid NOT NULL REFERENCES shops(id),
        vendor_id uuid NOT NULL REFERENCES vendors(id),
        zone_id uuid NOT NULL REFERENCES zones(id),
        address_id uuid REFERENCES addresses(id),
        status text NOT NULL DEFAULT 'PENDING'
          CHECK (status IN ('PENDING', 'ACCEPTED', 'PREPARING', 'ON_THE_WAY', 'DELIVERED', 'FAILED', 'REJECTED', 'CANCELLED')),
        subtotal_minor bigint NOT NULL CHECK (subtotal_minor >= 0),
        discount_minor bigint NOT NULL CHECK (discount_minor >= 0 AND discount_minor <= subtotal_minor),
        delivery_fee_minor bigint NOT NULL CHECK (delivery_fee_minor >= 0),
        total_minor bigint NOT NULL CHECK (total_minor = subtotal_minor - discount_minor + delivery_fee_minor),
        currency text NOT NULL,
        commission_bps integer NOT NULL CHECK (commission_bps BETWEEN 0 AND 10000),
        promotion_id uuid REFERENCES promotions(id),
        note text,
        driver_id uuid REFERENCES users(id),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        accepted_at timestamptz
      );
      CREATE INDEX orders_vendor_idx ON orders (vendor_id, created_at DESC, id DESC);
      CREATE INDEX orders_shop_idx ON orders (shop_id, created_at DESC, id DESC);
      CREATE INDEX orders_driver_idx ON orders (driver_id, created_at DESC) WHERE driver_id IS NOT NULL;
      CREATE INDEX orders_created_idx ON orders (created_at DESC, id DESC);
      CREATE INDEX orders_checkout_idx ON orders (checkout_id);

      CREATE TABLE order_items (
        order_id uuid NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
        product_id uuid NOT NULL REFERENCES products(id),
        name_ar text NOT NULL,
        name_en text NOT NULL,
        category_id uuid NOT NULL,
        unit_price_minor bigint NOT NULL CHECK (unit_price_minor >= 0),
        ordered_quantity integer NOT NULL CHECK (ordered_quantity > 0),
        quantity integer NOT NULL CHECK (quantity >= 0 AND quantity <= ordered_quantity),
        PRIMARY KEY (order_id, product_id)
      );

      CREATE TABLE order_events (
        id bigserial PRIMARY KEY,
        order_id uuid NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
        status text NOT NULL,
        at timestamptz NOT NULL DEFAULT now(),
        actor_id uuid,
        reason text
      );
      CREATE INDEX order_events_order_idx ON order_events (order_id, id);

      CREATE TABLE promotion_redemptions (
        promotion_id uuid NOT NULL REFERENCES promotions(id),
        order_id uuid NOT NULL REFERENCES orders(id),
        shop_id uuid NOT NULL REFERENCES shops(id),
        discount_minor bigint NOT NULL,
        at timestamptz NOT NULL DEFAULT now(),
        released_at timestamptz,
        PRIMARY KEY (promotion_id, order_id)
      );
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP TABLE promotion_redemptions;
      DROP TABLE order_events;
      DROP TABLE order_items;
      DROP TABLE orders;
      DROP SEQUENCE order_number_seq;
      DROP TABLE checkouts;
      DROP TABLE promotions;
      DROP TABLE cart_items;
      DROP TABLE carts;
    `);
  }
}
