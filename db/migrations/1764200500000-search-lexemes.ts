import type { MigrationInterface, QueryRunner } from 'typeorm';

export class SearchLexemes1764200500000 implements MigrationInterface {
  name = 'SearchLexemes1764200500000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      -- Every lexeme of every product's search_tsv, in byte order (COLLATE "C", as tsvector compares them). A prefix
      -- operand ('milk':*) makes the full-text GIN index gather every TID of every matching entry into a bitmap before
      -- anything else happens (no skipping, whatever the other words are); the same words as exact lexemes
      -- ('milk' | 'milky') let it skip through the posting lists. So lilium_prefix_query turns each word's prefix into
      -- the lexemes that start with it. That is exact only while this table holds every lexeme in use: the triggers
      -- below add them in the same transaction as the row; none is ever removed (a stale one just matches nothing).
      CREATE TABLE search_lexemes (lexeme text COLLATE "C" PRIMARY KEY);
      INSERT INTO search_lexemes SELECT DISTINCT unnest(tsvector_to_array(search_tsv)) FROM products ON CONFLICT DO NOTHING;

      CREATE FUNCTION lilium_add_search_lexemes() RETURNS trigger LANGUAGE plpgsql AS $fn$
      BEGIN
        IF TG_LEVEL = 'STATEMENT' THEN
          INSERT INTO search_lexemes SELECT DISTINCT unnest(tsvector_to_array(search_tsv)) FROM added ON CONFLICT DO NOTHING;
        ELSE
          INSERT INTO search_lexemes SELECT unnest(tsvector_to_array(NEW.search_tsv)) ON CONFLICT DO NOTHING;
        END IF;
        RETURN NULL;
      END
      $fn$;
      -- Inserts once per statement (an import adds thousands of rows at once); updates per row, and only those that
      -- change the searched text, so a stock or price update costs nothing here.
      CREATE TRIGGER products_search_lexemes_insert AFTER INSERT ON products REFERENCING NEW TABLE AS added
        FOR EACH STATEMENT EXECUTE FUNCTION lilium_add_search_lexemes();
      CREATE TRIGGER products_search_lexemes_update AFTER UPDATE OF name_ar, name_en, sku, description_ar, description_en ON products
        FOR EACH ROW WHEN (OLD.search_tsv IS DISTINCT FROM NEW.search_tsv) EXECUTE FUNCTION lilium_add_search_lexemes();

      -- The words' prefix query (to_tsquery('simple', 'w1:* & w2:*') of the folded words) with each prefix spelled
      -- as the lexemes it matches, so it matches exactly the same rows; NULL when it can match none. A word whose
      -- query is not the single operand 'w':* (the parser split it), or whose prefix matches more than 64 lexemes,
      -- keeps its prefix operand. The upper bound of the range leaves out lexemes that continue with U+10FFFF, a
      -- noncharacter.
      CREATE FUNCTION lilium_prefix_query(words text[]) RETURNS tsquery LANGUAGE plpgsql STABLE PARALLEL SAFE AS $fn$
      DECLARE
        w text;
        x text;
        qw tsquery;
        alternatives text;
        n integer;
        result tsquery;
      BEGIN
        FOREACH w IN ARRAY words LOOP
          x := lilium_normalize(w);
          CONTINUE WHEN x = '';
          qw := to_tsquery('simple', x || ':*');
          IF qw::text = '''' || replace(replace(x, '\\', '\\\\'), '''', '''''') || ''':*' THEN
            SELECT string_agg('''' || replace(replace(l.lexeme, '\\', '\\\\'), '''', '''''') || '''', ' | '), count(*) INTO alternatives, n
              FROM (SELECT lexeme FROM search_lexemes WHERE lexeme >= x AND lexeme < x || chr(1114111) ORDER BY lexeme LIMIT 65) l;
            IF n = 0 THEN
              RETURN NULL;
            ELSIF n <= 64 THEN
              qw := alternatives::tsquery;
            END IF;
          END IF;
          result := CASE WHEN result IS NULL THEN qw ELSE result && qw END;
        END LOOP;
        RETURN result;
      END
      $fn$;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP FUNCTION lilium_prefix_query(text[]);
      DROP TRIGGER products_search_lexemes_update ON products;
      DROP TRIGGER products_search_lexemes_insert ON products;
      DROP FUNCTION lilium_add_search_lexemes();
      DROP TABLE search_lexemes;
    `);
  }
}
