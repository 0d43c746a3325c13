// Service need for commissioners: the published (disclosure-controlled) cohort and tier counts
// turned into caseload estimates for the services that respond to them. A service responds to
// one or more published groups; the share of their people who need it in a year and the
// caseload one whole-time equivalent (WTE) carries are configuration, with defaults that cite
// where they come from or say they are planning assumptions. Worked out from the published
// figures alone (sql/marts/service_need.sql), they disclose nothing the counts do not.
import { z } from 'zod';

/** Groups of the commissioner tables a service can respond to (cohort_group_definition): the
 * cohorts, the tiers and all adults. Tiers do not overlap, so their counts can be added. */
export const SERVICE_GROUPS = [
  'multimorbidity',
  'frailty',
  'high cost',
  'any cohort',
  'very high',
  'high',
  'moderate',
  'low',
  'all adults',
] as const;

interface ServiceDefault {
  name: string;
  groups: (typeof SERVICE_GROUPS)[number][];
  share: number;
  shareSource: string;
  caseloadPerWte: number;
  caseloadSource: string;
}

const PLANNING = 'a planning assumption, not a published figure: set it locally';

export const SERVICE_DEFAULTS = {
  caseManagement: {
    name: 'case management (community matron or equivalent)',
    groups: ['very high', 'high'],
    share: 1,
    shareSource:
      'every person in the very high and high tiers: the top 5% to whom the NHS and Social Care Long Term Conditions Model (Department of Health 2005, after the Kaiser Permanente pyramid) offers case management, in our reading',
    caseloadPerWte: 50,
    caseloadSource:
      'the lower end of the 50 to 80 patients Department of Health guidance set for a community matron case manager, and the top of the 10 to 55 that case managers were found to hold (Sargent, Boaden and Roland, J Nurs Manag 2008;16:38-46)',
  },
  careCoordination: {
    name: 'care coordination (PCN care coordinators)',
    groups: ['frailty'],
    share: 0.5,
    shareSource: PLANNING,
    caseloadPerWte: 150,
    caseloadSource: `${PLANNING}; the Network Contract DES names the role but sets no caseload`,
  },
  communityNursing: {
    name: 'community (district) nursing',
    groups: ['frailty'],
    share: 0.2,
    shareSource: PLANNING,
    caseloadPerWte: 50,
    caseloadSource: `${PLANNING}; there is no national caseload standard for district nursing`,
  },
  socialPrescribing: {
    name: 'social prescribing (link workers)',
    groups: ['multimorbidity'],
    share: 0.2,
    shareSource: PLANNING,
    caseloadPerWte: 250,
    caseloadSource:
      'NHS England, social prescribing link workers: reference guide for primary care networks (2020): a typical caseload of 200 to 250 people a year, depending on the complexity of their needs; the upper figure',
  },
} as const satisfies Record<string, ServiceDefault>;

const serviceSchema = (d: ServiceDefault) =>
  z
    .object({
      groups: z
        .array(z.enum(SERVICE_GROUPS))
        .min(1)
        .default([...d.groups])
        .describe(`Published groups whose people ${d.name} responds to (tiers may be added together)`),
      share: z
        .number()
        .min(0)
        .max(1)
        .default(d.share)
        .describe(`Share of those people who need ${d.name} in a year: ${d.shareSource}`),
      caseloadPerWte: z
        .number()
        .positive()
        .default(d.caseloadPerWte)
        .describe(`People one whole-time ${d.name} worker carries in a year: ${d.caseloadSource}`),
    })
    .strict()
    .default({ groups: [...d.groups], share: d.share, caseloadPerWte: d.caseloadPerWte });

export const serviceNeedSchema = z
  .object({
    caseManagement: serviceSchema(SERVICE_DEFAULTS.caseManagement),
    careCoordination: serviceSchema(SERVICE_DEFAULTS.careCoordination),
    communityNursing: serviceSchema(SERVICE_DEFAULTS.communityNursing),
    socialPrescribing: serviceSchema(SERVICE_DEFAULTS.socialPrescribing),
  })
  .strict()
  .default(
    Object.fromEntries(
      Object.entries(SERVICE_DEFAULTS).map(([k, d]) => [
        k,
        { groups: [...d.groups], share: d.share, caseloadPerWte: d.caseloadPerWte },
      ]),
    ) as never,
  )
  .describe('Caseload estimates for the services that respond to the cohorts');

export type ServiceNeedConfig = z.infer<typeof serviceNeedSchema>;

/** Rows of the service_ratio table: one per service per group it responds to. */
export function serviceRatioRows(config: ServiceNeedConfig) {
  return Object.entries(config).flatMap(([id, s], i) =>
    s.groups.map((group) => ({
      service_order: i + 1,
      service: SERVICE_DEFAULTS[id as keyof typeof SERVICE_DEFAULTS].name,
      cohort: group,
      share_needing: s.share,
      caseload_per_wte: s.caseloadPerWte,
    })),
  );
}
