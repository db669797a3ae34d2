import { fieldProblem, InvalidRequestError } from '../errors/gatehouse-error.ts';
import type { ProblemCode, ProblemParams } from '../errors/problems.ts';

/** Reading a Keycloak realm export: JSON helpers shared by the mapping modules (src/keycloak/map-*.ts). */

export type Json = Record<string, unknown>;

/** Something of the export that has no place in Gatehouse, and why (the import report lists them). */
export interface UnmappedItem {
  readonly kind: string;
  readonly name: string;
  readonly reason: string;
}

export const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
export const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
export const text = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);
export const strings = (value: unknown): string[] => list(value).filter((item): item is string => typeof item === 'string');

export class KeycloakExportError extends InvalidRequestError {
  /** `path`: the member at fault (`realm`), or '' for the document as a whole. */
  constructor(code: ProblemCode, path = '', params?: ProblemParams) {
    const detail = fieldProblem(path, code, params);
    super(detail.message, [detail]);
  }
}

/** A field Keycloak stores as a JSON string (credentials' secretData, credentialData) or as an object. */
export function jsonField(value: unknown): Json {
  if (isObject(value)) return value;
  if (typeof value !== 'string') return {};
  try {
    const parsed = JSON.parse(value) as unknown;
    return isObject(parsed) ? parsed : {};
  } catch {
    return {};
  }
}

export const first = (value: unknown): string | undefined => (Array.isArray(value) ? text(value[0]) : text(value));
