// Medicines whose repeated issue marks a condition: BNF chemical substances by section.
import type { Derivation, Drop } from './types.ts';

// Cassell et al. count prescription-only analgesics; paracetamol and aspirin alone are bought
// over the counter, so their issues say little about a painful condition.
const ANALGESICS_SOLD_OVER_THE_COUNTER: Drop = {
  why: 'paracetamol and aspirin alone: sold over the counter, not prescription-only analgesics',
  termMatches: /^(paracetamol|aspirin)$/i,
};

// Every BNF chemical substance under the named BNF sections or paragraphs.
export const medicineDerivations: Derivation[] = [
  ...(
    [
      ['med_analgesics', ['0407010', '0407020']],
      ['med_antidepressants', ['0403']],
      ['med_anxiolytics_hypnotics', ['040101', '040102']],
      ['med_antiepileptics', ['040801']],
      ['med_antimigraine', ['040704']],
      ['med_asthma_inhalers', ['0301', '0302', '0303']],
      ['med_ibs_antispasmodics', ['010200']],
      ['med_laxatives', ['0106']],
      ['med_psoriasis_eczema', ['1304', '1305']],
    ] as const
  ).map(([id, prefixes]) => ({
    id,
    from: [{ file: 'nhsbsa-bnf/bnf-chemical-substances.csv', bnfPrefixes: [...prefixes] }],
    drop: id === 'med_analgesics' ? [ANALGESICS_SOLD_OVER_THE_COUNTER] : [],
  })),
  {
    id: 'med_lithium',
    from: [{ file: 'nhsbsa-bnf/bnf-chemical-substances.csv', bnfPrefixes: ['040203'], keep: /^lithium/i }],
  },
];
