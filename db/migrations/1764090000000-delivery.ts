import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Delivery1764090000000 implements MigrationInterface {
  name = 'Delivery1764090000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE orders
        ADD COLUMN delivery_code text,
        -- Wrong codes entered; at the limit only the vendor's override confirms the delivery.
        ADD COLUMN code_failures integer NOT NULL DEFAULT 0,
        ADD COLUMN eta_at timestamptz,
        ADD COLUMN on_the_way_at timestamptz,
        ADD COLUMN delivered_at timestamptz;
      CREATE INDEX orders_delivered_idx ON orders (zone_id, delivered_at DESC) WHERE delivered_at IS NOT NULL;

      CREATE TABLE driver_status (
        user_id uuid PRIMARY KEY REFERENCES users(id),
        available boolean NOT NULL DEFAULT false,
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE driver_locations (
        user_id uuid PRIMARY KEY REFERENCES users(id),
        lat double precision NOT NULL,
        lng double precision NOT NULL,
        at timestamptz NOT NULL DEFAULT now(),
        forwarded_at timestamptz
      );

      -- One double-entry ledger. Amounts are signed minor units: debits positive, credits negative.
      CREATE TABLE ledger_transactions (
        id bigserial PRIMARY KEY,
        kind text NOT NULL CHECK (kind IN ('CASH_COLLECTED', 'CASH_HANDOVER', 'SETTLEMENT_PAID', 'REVERSAL')),
        order_id uuid REFERENCES orders(id),
        actor_id uuid REFERENCES users(id),
        idempotency_key text,
        memo text,
        reverses bigint REFERENCES ledger_transactions(id),
        at timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE ledger_entries (
        id bigserial PRIMARY KEY,
        tx_id bigint NOT NULL REFERENCES ledger_transactions(id),
        account text NOT NULL,
        amount bigint NOT NULL CHECK (amount <> 0)
      );
      CREATE INDEX ledger_entries_account_idx ON ledger_entries (account, tx_id);
      CREATE INDEX ledger_entries_tx_idx ON ledger_entries (tx_id);
      CREATE INDEX ledger_transactions_at_idx ON ledger_transactions (at);

      -- Checked at commit, once every entry of the transaction is in.
      CREATE FUNCTION ledger_balanced() RETURNS trigger LANGUAGE plpgsql AS $fn$
      BEGIN
        IF (SELECT sum(amount) FROM ledger_entries WHERE tx_id = NEW.tx_id) <> 0 THEN
          RAISE EXCEPTION 'ledger transaction % does not balance', NEW.tx_id USING ERRCODE = '23514';
        END IF;
        RETURN NULL;
      END
      $fn$;
      CREATE CONSTRAINT TRIGGER ledger_balanced AFTER INSERT ON ledger_entries
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_balanced();

      -- Corrections are reversing transactions, never edits.
      CREATE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $fn$
      BEGIN
        RAISE EXCEPTION 'the ledger is append-only' USING ERRCODE = '23514';
      END
      $fn$;
      CREATE TRIGGER ledger_entries_append_only BEFORE UPDATE OR DELETE ON ledger_entries FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
      CREATE TRIGGER ledger_transactions_append_only BEFORE UPDATE OR DELETE ON ledger_transactions FOR EACH ROW EXECUTE FUNCTION ledger_append_only();

      CREATE TABLE cash_collections (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        order_id uuid NOT NULL UNIQUE REFERENCES orders(id),
        driver_id uuid NOT NULL REFERENCES users(id),
        expected_minor bigint NOT NULL,
        collected_minor bigint NOT NULL CHECK (collected_minor >= 0),
        reason text,
        ledger_tx bigint NOT NULL REFERENCES ledger_transactions(id),
        at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX cash_collections_driver_idx ON cash_collections (driver_id, at);

      CREATE TABLE cash_handovers (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        driver_id uuid NOT NULL REFERENCES users(id),
        amount_minor bigint NOT NULL CHECK (amount_minor > 0),
        received_by uuid NOT NULL REFERENCES users(id),
        vendor_id uuid REFERENCES vendors(id),
        note text,
        ledger_tx bigint NOT NULL REFERENCES ledger_transactions(id),
        at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX cash_handovers_driver_idx ON cash_handovers (driver_id, at);

      CREATE TABLE settlements (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        vendor_id uuid NOT NULL REFERENCES vendors(id),
        period_start timestamptz NOT NULL,
        period_end timestamptz NOT NULL CHECK (period_end > period_start),
        status text NOT NULL DEFAULT 'CREATED' CHECK (status IN ('CREATED', 'VERIFIED', 'PAID')),
        gross_minor bigint NOT NULL,
        commission_minor bigint NOT NULL,
        delivery_fees_minor bigint NOT NULL,
        adjustments_minor bigint NOT NULL,
        net_minor bigint NOT NULL CHECK (net_minor = gross_minor - commission_minor + adjustments_minor),
        created_by uuid NOT NULL REFERENCES users(id),
        created_at timestamptz NOT NULL DEFAULT now(),
        verified_by uuid REFERENCES users(id),
        verified_at timestamptz,
        paid_by uuid REFERENCES users(id),
        paid_at timestamptz,
        ledger_tx bigint REFERENCES ledger_transactions(id)
      );
      CREATE INDEX settlements_vendor_idx ON settlements (vendor_id, created_at DESC, id DESC);
      -- An order is settled once, ever.
      CREATE TABLE settlement_orders (
        settlement_id uuid NOT NULL REFERENCES settlements(id),
        order_id uuid NOT NULL UNIQUE REFERENCES orders(id),
        commission_minor bigint NOT NULL,
        PRIMARY KEY (settlement_id, order_id)
      );
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP TABLE settlement_orders;
      DROP TABLE settlements;
      DROP TABLE cash_handovers;
      DROP TABLE cash_collections;
      DROP TABLE ledger_entries;
      DROP TABLE ledger_transactions;
      DROP FUNCTION ledger_append_only();
      DROP FUNCTION ledger_balanced();
      DROP TABLE driver_locations;
      DROP TABLE driver_status;
      DROP INDEX orders_delivered_idx;
      ALTER TABLE orders DROP COLUMN delivery_code, DROP COLUMN code_failures, DROP COLUMN eta_at, DROP COLUMN on_the_way_at, DROP COLUMN delivered_at;
    `);
  }
}
