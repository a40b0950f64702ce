/**
 * Hand-written bilingual material the demo's people, shops, vendors and addresses are built from: Baghdad
 * as its traders write it, in Arabic and in English. Arabic-script first names come from faker's Arabic
 * locale; what it lacks (Iraqi family names, Latin spellings, Baghdad's neighbourhoods) is here.
 */
import type { Tr } from './catalog-data.js';

/** Iraqi family names, as each is written in Arabic and spelt in English. */
export const familyNames: Tr[] = [
  { ar: 'الجبوري', en: 'Al-Jubouri' },
  { ar: 'التميمي', en: 'Al-Tamimi' },
  { ar: 'العبيدي', en: 'Al-Obaidi' },
  { ar: 'الدليمي', en: 'Al-Dulaimi' },
  { ar: 'الساعدي', en: 'Al-Saadi' },
  { ar: 'الربيعي', en: 'Al-Rubaie' },
  { ar: 'الزبيدي', en: 'Al-Zubaidi' },
  { ar: 'الخفاجي', en: 'Al-Khafaji' },
  { ar: 'الموسوي', en: 'Al-Moussawi' },
  { ar: 'الحسيني', en: 'Al-Husseini' },
  { ar: 'الشمري', en: 'Al-Shammari' },
  { ar: 'العزاوي', en: 'Al-Azzawi' },
  { ar: 'الكعبي', en: 'Al-Kaabi' },
  { ar: 'اللامي', en: 'Al-Lami' },
  { ar: 'البياتي', en: 'Al-Bayati' },
  { ar: 'السامرائي', en: 'Al-Samarrai' },
  { ar: 'الجنابي', en: 'Al-Janabi' },
  { ar: 'العاني', en: 'Al-Ani' },
  { ar: 'الطائي', en: 'Al-Taie' },
  { ar: 'الكرخي', en: 'Al-Karkhi' },
];

/** First names common in Baghdad, spelt as their owners write them in English. */
export const latinFirstNames: Record<'male' | 'female', string[]> = {
  male: ['Ahmed', 'Mohammed', 'Ali', 'Hussein', 'Hassan', 'Mustafa', 'Omar', 'Haider', 'Abbas', 'Karrar', 'Mahdi', 'Sajjad', 'Yousif', 'Muntadher', 'Ammar'],
  female: ['Zainab', 'Fatima', 'Maryam', 'Noor', 'Sara', 'Huda', 'Ruqaya', 'Zahraa', 'Shahad', 'Rusul'],
};

/** What a shop calls itself, around its proper name (`{name}`). */
export const shopKinds: Tr[] = [
  { ar: 'أسواق {name}', en: '{name} Markets' },
  { ar: 'سوبرماركت {name}', en: '{name} Supermarket' },
  { ar: 'بقالة {name}', en: '{name} Grocery' },
  { ar: 'محلات {name} للمواد الغذائية', en: '{name} Foodstuffs' },
  { ar: 'هايبر ماركت {name}', en: '{name} Hypermarket' },
  { ar: 'أسواق {name} المركزية', en: '{name} Central Market' },
];

export const shopProperNames: Tr[] = [
  { ar: 'النخيل', en: 'Al-Nakheel' },
  { ar: 'الفرات', en: 'Al-Furat' },
  { ar: 'دجلة', en: 'Dijla' },
  { ar: 'الزهراء', en: 'Al-Zahraa' },
  { ar: 'الأمير', en: 'Al-Ameer' },
  { ar: 'السلام', en: 'Al-Salam' },
  { ar: 'النور', en: 'Al-Noor' },
  { ar: 'الخير', en: 'Al-Khair' },
  { ar: 'الهدى', en: 'Al-Huda' },
  { ar: 'البركة', en: 'Al-Baraka' },
  { ar: 'الكوثر', en: 'Al-Kawthar' },
  { ar: 'أبو علي', en: 'Abu Ali' },
  { ar: 'أبو حيدر', en: 'Abu Haider' },
  { ar: 'الحبيب', en: 'Al-Habeeb' },
  { ar: 'الأمانة', en: 'Al-Amana' },
  { ar: 'العائلة', en: 'Al-Aila' },
];

/** The wholesalers, each under its Arabic and its English trade name. The first five are approved. */
export const vendorNames: Tr[] = [
  { ar: 'الرافدين لتجارة الجملة', en: 'Rafidain Wholesale' },
  { ar: 'شركة دجلة التجارية', en: 'Tigris Trading Co.' },
  { ar: 'بابل للمواد الغذائية', en: 'Babylon Foods' },
  { ar: 'الفرات للتوزيع', en: 'Euphrates Distribution' },
  { ar: 'ما بين النهرين للتجهيزات', en: 'Mesopotamia Supplies' },
  { ar: 'عشتار للاستيراد', en: 'Ishtar Imports' },
];

/** Neighbourhoods of each zone (by zone code) and a point near the zone's middle. */
export const neighbourhoods: Record<string, { centre: { lat: number; lng: number }; names: Tr[] }> = {
  KARKH: {
    centre: { lat: 33.305, lng: 44.37 },
    names: [
      { ar: 'حي الجامعة', en: 'Hay Al-Jamia' },
      { ar: 'العامرية', en: 'Al-Amiriya' },
      { ar: 'الشعلة', en: 'Al-Shula' },
      { ar: 'الحارثية', en: 'Al-Harthiya' },
      { ar: 'الصالحية', en: 'Al-Salihiya' },
    ],
  },
  RUSAFA: {
    centre: { lat: 33.33, lng: 44.42 },
    names: [
      { ar: 'الكرادة', en: 'Karrada' },
      { ar: 'البتاوين', en: 'Al-Bataween' },
      { ar: 'زيونة', en: 'Zayouna' },
      { ar: 'بغداد الجديدة', en: 'New Baghdad' },
      { ar: 'الغدير', en: 'Al-Ghadeer' },
    ],
  },
  MANSOUR: {
    centre: { lat: 33.315, lng: 44.345 },
    names: [
      { ar: 'المنصور', en: 'Al-Mansour' },
      { ar: 'اليرموك', en: 'Al-Yarmouk' },
      { ar: 'حي العدل', en: 'Hay Al-Adil' },
      { ar: 'القادسية', en: 'Al-Qadisiya' },
      { ar: 'الداودي', en: 'Al-Dawoodi' },
    ],
  },
  ADHAMIYA: {
    centre: { lat: 33.37, lng: 44.38 },
    names: [
      { ar: 'الأعظمية', en: 'Al-Adhamiya' },
      { ar: 'الوزيرية', en: 'Al-Waziriya' },
      { ar: 'راغبة خاتون', en: 'Raghiba Khatun' },
      { ar: 'الصليخ', en: 'Al-Sulaikh' },
      { ar: 'حي المغرب', en: 'Hay Al-Maghrib' },
    ],
  },
};

/** Baghdad finds a door by its landmark as much as by its number. */
export const landmarks: Tr[] = [
  { ar: 'قرب الجامع', en: 'near the mosque' },
  { ar: 'مقابل المدرسة الابتدائية', en: 'opposite the primary school' },
  { ar: 'قرب محطة الوقود', en: 'near the petrol station' },
  { ar: 'خلف المستوصف', en: 'behind the clinic' },
  { ar: 'جنب الفرن', en: 'next to the bakery' },
  { ar: 'مقابل الحديقة', en: 'opposite the park' },
];

export const deliveryNotes: Tr[] = [
  { ar: 'اتصل قبل الوصول', en: 'Call before arriving' },
  { ar: 'التفريغ من الباب الخلفي', en: 'Unload at the back door' },
  { ar: 'الاستلام بعد الساعة العاشرة صباحاً', en: 'Deliveries after 10 am' },
];

/** Iraqi mobile prefixes after +964: Korek 750–751, Asiacell 770–775, Zain 780–782 and 790. */
export const mobilePrefixes = ['750', '751', '770', '771', '772', '773', '774', '775', '780', '781', '782', '790'];
