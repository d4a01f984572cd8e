/**
 * What a user (or the seed, or a future screen) may write, per model: plaintext, before PII encryption, without
 * the sync columns. The write path validates every insert and update against these schemas.
 */
import { z } from 'zod';

const isoDate = z.iso.date();
const isoDateTime = z.iso.datetime();
const id = z.uuid();
const name = z.string().trim().min(1).max(80);

export const subjectInput = z.object({
  subjectIdentifier: z.string().regex(/^[A-Z0-9-]{6,40}$/),
  firstName: name,
  lastName: name,
  dob: isoDate,
  identityNumber: z.string().trim().min(4).max(40),
  phone: z.string().regex(/^\+?[0-9 ]{6,20}$/).nullable(),
  gender: z.enum(['M', 'F']),
  registrationDatetime: isoDateTime,
}).strict();

export const consentInput = z.object({
  subjectId: id,
  version: z.string().regex(/^[0-9]{1,3}(\.[0-9]{1,3})?$/),
  consentDatetime: isoDateTime,
  isLiterate: z.boolean(),
  language: z.string().min(2).max(10),
}).strict();

export const VISIT_CODES = ['1000', '2000', '3000', '4000'] as const;
export const visitInput = z.object({
  subjectId: id,
  visitCode: z.enum(VISIT_CODES),
  visitCodeSequence: z.number().int().min(0).max(99),
  visitDatetime: isoDateTime,
  reason: z.enum(['scheduled', 'unscheduled', 'missed']),
}).strict();

export const vitalSignsInput = z.object({
  visitId: id,
  weightKg: z.number().min(0.5).max(400).nullable(),
  heightCm: z.number().min(30).max(250).nullable(),
  systolic: z.number().int().min(50).max(300).nullable(),
  diastolic: z.number().int().min(20).max(200).nullable(),
  temperatureC: z.number().min(30).max(45).nullable(),
  /** Added in schema 2: a form (or an older caller) that does not ask for it leaves it empty. */
  oxygenSaturation: z.number().int().min(50).max(100).nullable().optional(),
}).strict();

export const medicalHistoryInput = z.object({
  visitId: id,
  hypertension: z.boolean(),
  diabetes: z.boolean(),
  hivStatus: z.enum(['positive', 'negative', 'unknown']),
  currentMedications: z.string().max(2000).nullable(),
}).strict();

export const PANELS = {
  'CD4': ['whole blood'],
  'Viral load': ['plasma', 'whole blood'],
  'Full blood count': ['whole blood'],
  'Chemistry': ['serum'],
  'Stored plasma': ['plasma'],
} as const satisfies Record<string, readonly string[]>;

export const specimenRequisitionInput = z.object({
  visitId: id,
  requisitionIdentifier: z.string().regex(/^[A-Z0-9]{8,48}$/),
  panel: z.string().min(1).max(60),
  specimenType: z.string().min(1).max(40),
  drawnDatetime: isoDateTime,
  itemCount: z.number().int().min(1).max(20),
}).strict();

const identifierList = z.string().refine((s) => {
  try {
    const v: unknown = JSON.parse(s);
    return Array.isArray(v) && v.every((x) => typeof x === 'string');
  } catch {
    return false;
  }
}, 'a JSON array of requisition identifiers');

export const specimenReconciliationInput = z.object({
  reconciliationIdentifier: z.string().regex(/^[A-Z0-9-]{6,40}$/),
  reconciledAt: isoDateTime,
  location: z.string().min(1).max(80),
  matched: identifierList,
  missing: identifierList,
  unexpected: identifierList,
}).strict();

export const ART_REGIMENS = ['TDF/3TC/DTG', 'TDF/FTC/EFV', 'AZT/3TC/NVP', 'ABC/3TC/DTG', 'TAF/FTC/DTG'] as const;
export const followUpInput = z.object({
  subjectIdentifier: z.string().regex(/^[A-Z0-9-]{6,40}$/),
  visitCode: z.enum(VISIT_CODES),
  reportDatetime: isoDateTime,
  weightKg: z.number().min(0.5).max(400).nullable(),
  heightCm: z.number().min(30).max(250).nullable(),
  systolic: z.number().int().min(50).max(300).nullable(),
  diastolic: z.number().int().min(20).max(200).nullable(),
  pulse: z.number().int().min(20).max(250).nullable(),
  temperatureC: z.number().min(30).max(45).nullable(),
  respiratoryRate: z.number().int().min(4).max(80).nullable(),
  haemoglobin: z.number().min(1).max(25).nullable(),
  cd4Count: z.number().int().min(0).max(5000).nullable(),
  viralLoad: z.number().int().min(0).max(10_000_000).nullable(),
  onArt: z.enum(['yes', 'no', 'unknown']),
  artRegimen: z.enum(ART_REGIMENS).nullable(),
  adherence: z.enum(['good', 'fair', 'poor', 'not_applicable']),
  missedDoses: z.number().int().min(0).max(90).nullable(),
  tbSymptoms: z.enum(['none', 'cough', 'fever', 'night_sweats', 'weight_loss']),
  pregnancyStatus: z.enum(['yes', 'no', 'not_applicable']),
  smoking: z.enum(['never', 'former', 'current']),
  lastMenstrualDate: isoDate.nullable(),
  nextAppointmentDate: isoDate.nullable(),
  comment: z.string().max(2000).nullable(),
  contactName: name.nullable(),
  contactPhone: z.string().regex(/^\+?[0-9 ]{6,20}$/).nullable(),
}).strict();

const jsonOf = (schema: z.ZodType, what: string) => z.string().max(200_000).refine((s) => {
  try {
    return schema.safeParse(JSON.parse(s)).success;
  } catch {
    return false;
  }
}, what);
const codes = z.array(z.string().regex(/^[A-Z0-9-]{4,48}$/));
const signature = z.string().regex(/^[A-Za-z0-9_-]{86}$/).nullable();
const publicKey = z.string().regex(/^[A-Za-z0-9_-]{43}$/).nullable();

/** A hand-over of tubes (chain of custody): the giver's signed statement and, once received, the receiver's. */
export const specimenCustodyInput = z.object({
  custodyIdentifier: z.string().regex(/^[A-Z0-9-]{6,48}$/),
  kind: z.enum(['pull', 'delivery', 'handover']),
  fromDevice: z.string().min(1).max(32),
  toDevice: z.string().min(1).max(32).nullable(),
  scope: z.string().max(400),
  handedAt: isoDateTime,
  tubes: jsonOf(codes, 'a JSON array of requisition identifiers'),
  handoverKey: publicKey,
  handoverSig: signature,
  receivedAt: isoDateTime.nullable(),
  matched: jsonOf(codes, 'a JSON array of requisition identifiers').nullable(),
  missing: jsonOf(codes, 'a JSON array of requisition identifiers').nullable(),
  unexpected: jsonOf(codes, 'a JSON array of requisition identifiers').nullable(),
  reasons: jsonOf(z.record(z.string(), z.object({ reason: z.string(), note: z.string() })), 'a JSON object of reasons per tube').nullable(),
  receiptKey: publicKey,
  receiptSig: signature,
  reconciliationIdentifier: z.string().max(40).nullable(),
}).strict();

/** A data manager sets aside a received transaction that can never apply (core/set-aside.ts). */
export const setAsideInput = z.object({
  transactionId: id,
  producer: z.string().min(1).max(64),
  producerSeq: z.number().int().positive(),
  txName: z.string().regex(/^[a-z_]+\.[a-z_]+$/).max(64),
  txPk: z.string().min(1).max(128),
  reason: z.string().trim().min(3).max(500),
  rootTransactionId: id.nullable(),
}).strict();

export const modelInputs = {
  'edc.subject': subjectInput,
  'edc.consent': consentInput,
  'edc.visit': visitInput,
  'edc.vital_signs': vitalSignsInput,
  'edc.medical_history': medicalHistoryInput,
  'edc.specimen_requisition': specimenRequisitionInput,
  'edc.specimen_reconciliation': specimenReconciliationInput,
  'edc.follow_up': followUpInput,
  'edc.specimen_custody': specimenCustodyInput,
  'edc.set_aside': setAsideInput,
} as const;

export type TxName = keyof typeof modelInputs;
export type ModelInput<K extends TxName> = z.infer<(typeof modelInputs)[K]>;
export const TX_NAMES = Object.keys(modelInputs) as TxName[];
