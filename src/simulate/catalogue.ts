/**
 * A small grocery-and-household catalogue with German VAT classes: enough variety that baskets
 * exercise every rule of the transaction arithmetic (weighed goods, multi-buys, zero-rated items).
 * Prices are in minor units of the store currency and include tax (shelf prices).
 */
export interface TaxClass {
  code: string;
  /** The rate as the wire carries it: a fraction. */
  rate: number;
  /** The same rate in basis points, so tax is computed in integers and never drifts by a unit. */
  basisPoints: number;
}

export const TAX_CLASSES = {
  standard: { code: 'VAT19', rate: 0.19, basisPoints: 1900 },
  reduced: { code: 'VAT7', rate: 0.07, basisPoints: 700 },
  zero: { code: 'VAT0', rate: 0, basisPoints: 0 },
} as const satisfies Record<string, TaxClass>;

export interface CatalogueItem {
  sku: string;
  description: string;
  /** The merchandise category promotions may name (`items.categories`). */
  category: string;
  /** Per piece, or per kilogram for weighed goods. */
  unitPrice: number;
  tax: TaxClass;
  /** Sold by weight: quantity is kilograms with up to 3 decimals. */
  weighed?: true;
  /**
   * A promotion the simulator applies by itself when it does not ask the agent to price baskets (its
   * stand-in for head office's promotions; priced by the agent, sales carry the real ones instead).
   */
  promotion?: { promotionId: string; kind: 'three-for-two' } | { promotionId: string; percentOff: number };
  /** How often shoppers pick it, relative to the others. */
  popularity: number;
}

/** EAN-13 check digit (GS1 mod 10), so the SKUs look like what a scanner reads. */
function ean13(first12: string): string {
  const digits = [...first12].map(Number);
  const weightedSum = digits.reduce((sum, d, i) => sum + d * (i % 2 === 0 ? 1 : 3), 0);
  return `${first12}${(10 - (weightedSum % 10)) % 10}`;
}

const { standard, reduced, zero } = TAX_CLASSES;

export const CATALOGUE: readonly CatalogueItem[] = [
  {
    sku: ean13('400638133393'),
    description: 'Pencil HB',
    category: 'stationery',
    unitPrice: 120,
    tax: standard,
    popularity: 2,
    promotion: { promotionId: 'PROMO-3FOR2-STATIONERY', kind: 'three-for-two' },
  },
  {
    sku: ean13('400500000101'),
    description: 'Whole milk 1 l',
    category: 'dairy',
    unitPrice: 115,
    tax: reduced,
    popularity: 10,
  },
  {
    sku: ean13('400500000102'),
    description: 'Butter 250 g',
    category: 'dairy',
    unitPrice: 239,
    tax: reduced,
    popularity: 6,
  },
  {
    sku: ean13('400500000103'),
    description: 'Free-range eggs x10',
    category: 'dairy',
    unitPrice: 329,
    tax: reduced,
    popularity: 6,
  },
  {
    sku: ean13('400500000104'),
    description: 'Sourdough bread 750 g',
    category: 'bakery',
    unitPrice: 349,
    tax: reduced,
    popularity: 7,
  },
  {
    sku: ean13('400500000105'),
    description: 'Spaghetti 500 g',
    category: 'pasta',
    unitPrice: 129,
    tax: reduced,
    popularity: 5,
    promotion: { promotionId: 'PROMO-3FOR2-PASTA', kind: 'three-for-two' },
  },
  {
    sku: ean13('400500000106'),
    description: 'Tomato passata 700 g',
    category: 'grocery',
    unitPrice: 149,
    tax: reduced,
    popularity: 4,
  },
  {
    sku: ean13('400500000107'),
    description: 'Ground coffee 500 g',
    category: 'coffee',
    unitPrice: 799,
    tax: reduced,
    popularity: 4,
    promotion: { promotionId: 'PROMO-WEEKLY-COFFEE', percentOff: 20 },
  },
  {
    sku: ean13('400500000108'),
    description: 'Greek yoghurt 500 g',
    category: 'dairy',
    unitPrice: 219,
    tax: reduced,
    popularity: 5,
  },
  {
    sku: ean13('400500000109'),
    description: 'Gouda slices 200 g',
    category: 'dairy',
    unitPrice: 259,
    tax: reduced,
    popularity: 4,
  },
  {
    sku: ean13('400500000110'),
    description: 'Orange juice 1 l',
    category: 'drinks',
    unitPrice: 199,
    tax: reduced,
    popularity: 4,
  },
  {
    sku: ean13('400500000111'),
    description: 'Dark chocolate 100 g',
    category: 'confectionery',
    unitPrice: 189,
    tax: reduced,
    popularity: 5,
    promotion: { promotionId: 'PROMO-WEEKLY-CHOC', percentOff: 25 },
  },
  {
    sku: ean13('400500000112'),
    description: 'Mineral water 1.5 l',
    category: 'drinks',
    unitPrice: 69,
    tax: reduced,
    popularity: 8,
  },
  {
    sku: ean13('400500000113'),
    description: 'Frozen pizza margherita',
    category: 'frozen',
    unitPrice: 299,
    tax: reduced,
    popularity: 3,
  },
  {
    sku: ean13('400500000114'),
    description: 'Oat flakes 500 g',
    category: 'grocery',
    unitPrice: 99,
    tax: reduced,
    popularity: 3,
  },
  {
    sku: ean13('400500000201'),
    description: 'Lager beer 0.5 l',
    category: 'beer',
    unitPrice: 109,
    tax: standard,
    popularity: 5,
    promotion: { promotionId: 'PROMO-3FOR2-BEER', kind: 'three-for-two' },
  },
  {
    sku: ean13('400500000202'),
    description: 'Red wine 0.75 l',
    category: 'wine',
    unitPrice: 699,
    tax: standard,
    popularity: 3,
  },
  {
    sku: ean13('400500000203'),
    description: 'Dishwasher tablets x40',
    category: 'household',
    unitPrice: 899,
    tax: standard,
    popularity: 2,
    promotion: { promotionId: 'PROMO-WEEKLY-HOME', percentOff: 10 },
  },
  {
    sku: ean13('400500000204'),
    description: 'Toilet paper x8',
    category: 'household',
    unitPrice: 449,
    tax: standard,
    popularity: 3,
  },
  {
    sku: ean13('400500000205'),
    description: 'Shampoo 300 ml',
    category: 'hygiene',
    unitPrice: 345,
    tax: standard,
    popularity: 2,
  },
  {
    sku: ean13('400500000206'),
    description: 'Toothpaste 75 ml',
    category: 'hygiene',
    unitPrice: 195,
    tax: standard,
    popularity: 2,
  },
  {
    sku: ean13('400500000207'),
    description: 'AA batteries x4',
    category: 'electronics',
    unitPrice: 549,
    tax: standard,
    popularity: 1,
  },
  {
    sku: ean13('400500000208'),
    description: 'Kitchen roll x4',
    category: 'household',
    unitPrice: 379,
    tax: standard,
    popularity: 2,
  },
  {
    sku: ean13('400500000209'),
    description: 'USB-C charging cable',
    category: 'electronics',
    unitPrice: 1299,
    tax: standard,
    popularity: 0.5,
  },
  {
    sku: ean13('400500000210'),
    description: 'Bottle deposit',
    category: 'deposit',
    unitPrice: 25,
    tax: standard,
    popularity: 3,
  },
  {
    sku: 'STAMP-095',
    description: 'Postage stamp 0.95',
    category: 'postage',
    unitPrice: 95,
    tax: zero,
    popularity: 1,
  },
  {
    sku: 'GIFTCARD-25',
    description: 'Gift card 25.00',
    category: 'gift-cards',
    unitPrice: 2500,
    tax: zero,
    popularity: 0.3,
  },
  {
    sku: 'PLU-4011',
    description: 'Bananas',
    category: 'produce',
    unitPrice: 199,
    tax: reduced,
    weighed: true,
    popularity: 6,
  },
  {
    sku: 'PLU-4131',
    description: 'Apples Elstar',
    category: 'produce',
    unitPrice: 299,
    tax: reduced,
    weighed: true,
    popularity: 5,
  },
  {
    sku: 'PLU-4087',
    description: 'Vine tomatoes',
    category: 'produce',
    unitPrice: 399,
    tax: reduced,
    weighed: true,
    popularity: 4,
  },
  {
    sku: 'PLU-4062',
    description: 'Cucumbers',
    category: 'produce',
    unitPrice: 249,
    tax: reduced,
    weighed: true,
    popularity: 2,
  },
  {
    sku: 'DELI-2001',
    description: 'Emmental from the counter',
    category: 'deli',
    unitPrice: 1790,
    tax: reduced,
    weighed: true,
    popularity: 2,
  },
  {
    sku: 'DELI-2002',
    description: 'Minced beef',
    category: 'deli',
    unitPrice: 1190,
    tax: reduced,
    weighed: true,
    popularity: 2,
    promotion: { promotionId: 'PROMO-WEEKLY-MEAT', percentOff: 15 },
  },
  {
    sku: 'DELI-2003',
    description: 'Salmon fillet',
    category: 'deli',
    unitPrice: 2990,
    tax: reduced,
    weighed: true,
    popularity: 1,
  },
];
