import type { ParsedInputOf, ResultOf } from '../../protocol/index.js';
import type { Zone } from '../../protocol/zones.js';
import { sql } from '../../db/sql.js';
import type { ZoneRow } from '../../db/tables.js';
import type { Reader } from '../../db/tx.js';
import { audit } from '../audit.js';
import { mapConstraintErrors } from '../db-errors.js';
import { AppError, notFound } from '../errors.js';
import { actorOf, type Ctx } from '../rpc/context.js';
import { adminZones, requireUnlimitedAdmin } from '../auth/zone-scope.js';

export const toZone = (z: ZoneRow): Zone => ({ id: z.id, code: z.code, name: { ar: z.name_ar, en: z.name_en }, active: z.active });

/** Every id must name an active zone. */
export async function assertActiveZones(r: Reader, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  const [row] = await r.query<{ n: number }>(sql`SELECT count(*)::int AS n FROM zones WHERE id = ANY(${ids}::uuid[]) AND active`);
  if (row!.n !== new Set(ids).size) throw new AppError('NOT_FOUND', 'zone not found or not active', { zoneIds: ids });
}

/** Every app reads the zones at start and they almost never change: cached, invalidated by every change. */
const ZONES_CACHE = 'zones';
const TAKEN = 'a zone with this code exists';

export async function listZones(ctx: Ctx): Promise<ResultOf<'zones:list'>> {
  const limited = adminZones(actorOf(ctx));
  const all = await ctx.deps.cache.get(ZONES_CACHE, async () => (await ctx.query<ZoneRow>(sql`SELECT * FROM zones ORDER BY code`)).map(toZone));
  return { items: all.filter((z) => !limited || limited.includes(z.id)) };
}

export async function createZone(ctx: Ctx, input: ParsedInputOf<'zones:create'>): Promise<ResultOf<'zones:create'>> {
  requireUnlimitedAdmin(actorOf(ctx), 'add zones');
  return ctx.tx(async (ctx) => {
    ctx.deps.cache.invalidateAfter(ctx, ZONES_CACHE);
    const [zone] = await mapConstraintErrors(
      () => ctx.query<ZoneRow>(sql`INSERT INTO zones (code, name_ar, name_en) VALUES (${input.code}, ${input.name.ar}, ${input.name.en}) RETURNING *`),
      TAKEN,
    );
    await audit(ctx, 'ZONE_CREATE', { type: 'zone', id: zone!.id }, { code: zone!.code });
    return toZone(zone!);
  });
}

export async function updateZone(ctx: Ctx, input: ParsedInputOf<'zones:update'>): Promise<ResultOf<'zones:update'>> {
  requireUnlimitedAdmin(actorOf(ctx), 'change zones');
  return ctx.tx(async (ctx) => {
    ctx.deps.cache.invalidateAfter(ctx, ZONES_CACHE);
    const [zone] = await mapConstraintErrors(
      () =>
        ctx.query<ZoneRow>(sql`
          UPDATE zones SET code = coalesce(${input.code ?? null}, code), name_ar = coalesce(${input.name?.ar ?? null}, name_ar),
                 name_en = coalesce(${input.name?.en ?? null}, name_en), active = coalesce(${input.active ?? null}::boolean, active)
           WHERE id = ${input.id} RETURNING *`),
      TAKEN,
    );
    if (!zone) throw notFound('zone');
    await audit(ctx, 'ZONE_UPDATE', { type: 'zone', id: zone.id }, { code: input.code, name: input.name, active: input.active });
    return toZone(zone);
  });
}
