// Where each codelist comes from, and the one small step from the published file to the list.
// The published files sit unchanged in pipeline/codelists/source/ (their SHA-256 in files.ts); `npm run
// codelists` derives pipeline/codelists/<id>.csv from them and writes the counts into index.csv,
// and a test derives every list again and fails when a list, a count or a checksum drifts.
//
// A list is its sources' codes (all rows, or those whose term matches `keep`), less the rows a
// `drop` names. Every drop says why; drops marked `nearMiss` are codes a reader might expect on
// the list but that must not count (morphology, procedures, secondaries), and the synthetic
// generator writes some of them to prove the pipeline does not count them.
import { conditionDerivations } from './conditions.ts';
import { frailtyDerivations } from './frailty.ts';
import { medicineDerivations } from './medicines.ts';
import type { Derivation } from './types.ts';

export type { Derivation, Drop, SourceFile, SourceUse } from './types.ts';
export { sourceFiles } from './files.ts';

export const derivations: Derivation[] = [
  ...conditionDerivations,
  ...frailtyDerivations,
  ...medicineDerivations,
];

/** Published codes near a condition's list that must not mark it (here: the QOF "resolved"
 * codes of conditions counted without one), beside the drops marked `nearMiss`. */
export const nearMisses: { list: string; file: string; why: string }[] = [
  ['asthma', 'astres_cod', 'asthma resolved'],
  ['copd', 'copdres_cod', 'COPD resolved'],
  ['depression_anxiety', 'depres_cod', 'depression resolved'],
  ['epilepsy', 'epilres_cod', 'epilepsy resolved'],
  ['heart_failure', 'hfres_cod', 'heart failure resolved'],
].map(([list, name, why]) => ({
  list: list!,
  file: `opensafely+disease_incidence/nhsd-primary-care-domain-refsets-${name}.csv`,
  why: why!,
}));
