/** Hand-written bilingual material the demo catalog is built from. */

export interface Tr {
  ar: string;
  en: string;
}

export interface CategorySeed extends Tr {
  slug: string;
  children?: CategorySeed[];
  /** Leaf categories: what their products are called and the sizes they come in. */
  items?: { name: Tr; sizes: Tr[] };
}

export const zoneSeeds = [
  { code: 'KARKH', ar: 'الكرخ', en: 'Karkh' },
  { code: 'RUSAFA', ar: 'الرصافة', en: 'Rusafa' },
  { code: 'MANSOUR', ar: 'المنصور', en: 'Mansour' },
  { code: 'ADHAMIYA', ar: 'الأعظمية', en: 'Adhamiya' },
];

export const brands: Tr[] = [
  { ar: 'الريان', en: 'Al Rayyan' },
  { ar: 'نستله', en: 'Nestle' },
  { ar: 'المراعي', en: 'Almarai' },
  { ar: 'هاينز', en: 'Heinz' },
  { ar: 'عافية', en: 'Afia' },
  { ar: 'الوزان', en: 'Al Wazzan' },
  { ar: 'أبو كاس', en: 'Abu Kass' },
  { ar: 'الطحان', en: 'Al Tahhan' },
  { ar: 'كولجيت', en: 'Colgate' },
  { ar: 'فيري', en: 'Fairy' },
  { ar: 'تايد', en: 'Tide' },
  { ar: 'دانون', en: 'Danone' },
];

const s = (ar: string, en: string): Tr => ({ ar, en });

export const categoryTree: CategorySeed[] = [
  {
    slug: 'beverages',
    ar: 'مشروبات',
    en: 'Beverages',
    children: [
      {
        slug: 'water',
        ar: 'مياه',
        en: 'Water',
        children: [
          {
            slug: 'mineral-water',
            ar: 'مياه معدنية',
            en: 'Mineral water',
            items: { name: s('مياه معدنية', 'Mineral water'), sizes: [s('330 مل', '330ml'), s('500 مل', '500ml'), s('1.5 لتر', '1.5L')] },
          },
          {
            slug: 'sparkling-water',
            ar: 'مياه غازية',
            en: 'Sparkling water',
            items: { name: s('مياه فوارة', 'Sparkling water'), sizes: [s('330 مل', '330ml'), s('750 مل', '750ml')] },
          },
        ],
      },
      { slug: 'juices', ar: 'عصائر', en: 'Juices', items: { name: s('عصير برتقال', 'Orange juice'), sizes: [s('200 مل', '200ml'), s('1 لتر', '1L')] } },
      {
        slug: 'tea-coffee',
        ar: 'شاي وقهوة',
        en: 'Tea & coffee',
        items: { name: s('شاي أسود', 'Black tea'), sizes: [s('100 كيس', '100 bags'), s('500 غرام', '500g')] },
      },
    ],
  },
  {
    slug: 'staples',
    ar: 'مواد غذائية',
    en: 'Food staples',
    children: [
      {
        slug: 'rice',
        ar: 'أرز',
        en: 'Rice',
        children: [
          {
            slug: 'basmati-rice',
            ar: 'أرز بسمتي',
            en: 'Basmati rice',
            items: { name: s('أرز بسمتي', 'Basmati rice'), sizes: [s('1 كغ', '1kg'), s('5 كغ', '5kg'), s('10 كغ', '10kg')] },
          },
          {
            slug: 'jasmine-rice',
            ar: 'أرز ياسمين',
            en: 'Jasmine rice',
            items: { name: s('أرز ياسمين', 'Jasmine rice'), sizes: [s('1 كغ', '1kg'), s('5 كغ', '5kg')] },
          },
        ],
      },
      { slug: 'sugar', ar: 'سكر', en: 'Sugar', items: { name: s('سكر أبيض', 'White sugar'), sizes: [s('1 كغ', '1kg'), s('5 كغ', '5kg')] } },
      {
        slug: 'cooking-oil',
        ar: 'زيت طبخ',
        en: 'Cooking oil',
        items: { name: s('زيت دوار الشمس', 'Sunflower oil'), sizes: [s('1 لتر', '1L'), s('1.8 لتر', '1.8L'), s('4 لتر', '4L')] },
      },
      { slug: 'flour', ar: 'طحين', en: 'Flour', items: { name: s('طحين صفر', 'Fine flour'), sizes: [s('1 كغ', '1kg'), s('10 كغ', '10kg')] } },
      { slug: 'pasta', ar: 'معكرونة', en: 'Pasta', items: { name: s('معكرونة سباغيتي', 'Spaghetti'), sizes: [s('400 غرام', '400g'), s('500 غرام', '500g')] } },
      {
        slug: 'canned-food',
        ar: 'معلبات',
        en: 'Canned food',
        items: { name: s('معجون طماطة', 'Tomato paste'), sizes: [s('135 غرام', '135g'), s('400 غرام', '400g')] },
      },
    ],
  },
  {
    slug: 'dairy',
    ar: 'ألبان',
    en: 'Dairy',
    children: [
      { slug: 'milk', ar: 'حليب', en: 'Milk', items: { name: s('حليب كامل الدسم', 'Full cream milk'), sizes: [s('200 مل', '200ml'), s('1 لتر', '1L')] } },
      { slug: 'cheese', ar: 'جبن', en: 'Cheese', items: { name: s('جبنة بيضاء', 'White cheese'), sizes: [s('250 غرام', '250g'), s('500 غرام', '500g')] } },
      { slug: 'yogurt', ar: 'لبن', en: 'Yogurt', items: { name: s('لبن رائب', 'Plain yogurt'), sizes: [s('170 غرام', '170g'), s('1 كغ', '1kg')] } },
    ],
  },
  {
    slug: 'cleaning',
    ar: 'منظفات',
    en: 'Cleaning',
    children: [
      { slug: 'laundry', ar: 'مساحيق غسيل', en: 'Laundry', items: { name: s('مسحوق غسيل', 'Washing powder'), sizes: [s('1 كغ', '1kg'), s('3 كغ', '3kg')] } },
      {
        slug: 'dishwashing',
        ar: 'سائل جلي',
        en: 'Dishwashing',
        items: { name: s('سائل جلي', 'Dishwashing liquid'), sizes: [s('500 مل', '500ml'), s('1 لتر', '1L')] },
      },
    ],
  },
  {
    slug: 'personal-care',
    ar: 'عناية شخصية',
    en: 'Personal care',
    children: [
      { slug: 'shampoo', ar: 'شامبو', en: 'Shampoo', items: { name: s('شامبو للشعر', 'Hair shampoo'), sizes: [s('200 مل', '200ml'), s('400 مل', '400ml')] } },
      {
        slug: 'toothpaste',
        ar: 'معجون أسنان',
        en: 'Toothpaste',
        items: { name: s('معجون أسنان', 'Toothpaste'), sizes: [s('75 مل', '75ml'), s('125 مل', '125ml')] },
      },
      {
        slug: 'tissues',
        ar: 'محارم',
        en: 'Tissues',
        items: { name: s('محارم ورقية', 'Facial tissues'), sizes: [s('150 منديل', '150 sheets'), s('200 منديل', '200 sheets')] },
      },
    ],
  },
  {
    slug: 'snacks',
    ar: 'وجبات خفيفة',
    en: 'Snacks',
    children: [
      { slug: 'chips', ar: 'شيبس', en: 'Chips', items: { name: s('شيبس بطاطا', 'Potato chips'), sizes: [s('25 غرام', '25g'), s('80 غرام', '80g')] } },
      {
        slug: 'biscuits',
        ar: 'بسكويت',
        en: 'Biscuits',
        items: { name: s('بسكويت بالشوكولاتة', 'Chocolate biscuits'), sizes: [s('60 غرام', '60g'), s('200 غرام', '200g')] },
      },
      {
        slug: 'chocolate',
        ar: 'شوكولاتة',
        en: 'Chocolate',
        items: { name: s('لوح شوكولاتة', 'Chocolate bar'), sizes: [s('45 غرام', '45g'), s('100 غرام', '100g')] },
      },
    ],
  },
];
