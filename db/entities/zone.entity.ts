import { EntitySchema } from 'typeorm';

export interface ZoneRow {
  id: string;
  code: string;
  nameAr: string;
  nameEn: string;
  active: boolean;
  createdAt: Date;
}

export const ZoneEntity = new EntitySchema<ZoneRow>({
  name: 'Zone',
  tableName: 'zones',
  columns: {
    id: { type: 'uuid', primary: true, generated: 'uuid' },
    code: { type: 'text' },
    nameAr: { type: 'text', name: 'name_ar' },
    nameEn: { type: 'text', name: 'name_en' },
    active: { type: 'boolean', default: true },
    createdAt: { type: 'timestamptz', name: 'created_at', createDate: true },
  },
});
