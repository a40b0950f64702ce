import type { ParsedInputOf, ResultOf } from '../../protocol/index.js';
import type { Zone } from '../../protocol/zones.js';
import { ZoneEntity, type ZoneRow } from '../../db/entities/zone.entity.js';
import { audit } from '../audit.js';
import { mapConstraintErrors } from '../db-errors.js';
import { AppError, notFound } from '../errors.js';
import { actorOf, type Ctx, type Reader } from '../rpc/context.js';
import { adminZones, requireUnlimitedAdmin } from '../users/scope.js';

export const toZone = (z: ZoneRow): Zone => ({ id: z.id, code: z.code, name: { ar: z.nameAr, en: z.nameEn }, active: z.active });

/** Every id must name an active zone. */
export async function assertActiveZones(r: Reader, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  const [row] = await r.query<{ n: number }>('SELECT count(*)::int AS n FROM zones WHERE id = ANY($1::uuid[]) AND active', [ids]);
  if (row!.n !== new Set(ids).size) throw new AppError('NOT_FOUND', 'zone not found or not active', { zoneIds: ids });
}

/** Every app reads the zones at start and they almost never change: cached, invalidated by every change. */
const ZONES_CACHE = 'zones';

export async function listZones(ctx: Ctx): Promise<ResultOf<'zones:list'>> {
  const limited = adminZones(actorOf(ctx));
  const all = await ctx.deps.cache.get(ZONES_CACHE, async () =>
    (await ctx.read((r) => r.manager.getRepository(ZoneEntity).find({ order: { code: 'ASC' } }))).map(toZone),
  );
  return { items: all.filter((z) => !limited || limited.includes(z.id)) };
}

export async function createZone(ctx: Ctx, input: ParsedInputOf<'zones:create'>): Promise<ResultOf<'zones:create'>> {
  requireUnlimitedAdmin(actorOf(ctx), 'add zones');
  return ctx.tx(async (tx) => {
    ctx.deps.cache.invalidateAfter(tx, ZONES_CACHE);
    const repo = tx.manager.getRepository(ZoneEntity);
    const zone = await mapConstraintErrors(
      () => repo.save(repo.create({ code: input.code, nameAr: input.name.ar, nameEn: input.name.en })),
      'a zone with this code exists',
    );
    await audit(tx, ctx, 'ZONE_CREATE', { type: 'zone', id: zone.id }, { code: zone.code });
    return toZone(zone);
  });
}

export async function updateZone(ctx: Ctx, input: ParsedInputOf<'zones:update'>): Promise<ResultOf<'zones:update'>> {
  requireUnlimitedAdmin(actorOf(ctx), 'change zones');
  return ctx.tx(async (tx) => {
    ctx.deps.cache.invalidateAfter(tx, ZONES_CACHE);
    const repo = tx.manager.getRepository(ZoneEntity);
    const zone = await repo.findOne({ where: { id: input.id }, lock: { mode: 'pessimistic_write' } });
    if (!zone) throw notFound('zone');
    if (input.code !== undefined) zone.code = input.code;
    if (input.name) [zone.nameAr, zone.nameEn] = [input.name.ar, input.name.en];
    if (input.active !== undefined) zone.active = input.active;
    await mapConstraintErrors(() => repo.save(zone), 'a zone with this code exists');
    await audit(tx, ctx, 'ZONE_UPDATE', { type: 'zone', id: zone.id }, { code: input.code, name: input.name, active: input.active });
    return toZone(zone);
  });
}
