import type { ResultOf } from '../../protocol/index.js';
import type { Zone } from '../../protocol/zones.js';
import { ZoneEntity, type ZoneRow } from '../../db/entities/zone.entity.js';
import type { Ctx } from '../rpc/context.js';

export const toZone = (z: ZoneRow): Zone => ({ id: z.id, code: z.code, name: { ar: z.nameAr, en: z.nameEn }, active: z.active });

export async function listZones(ctx: Ctx): Promise<ResultOf<'zones:list'>> {
  const rows = await ctx.read((r) => r.manager.getRepository(ZoneEntity).find({ order: { code: 'ASC' } }));
  return { items: rows.map(toZone) };
}
