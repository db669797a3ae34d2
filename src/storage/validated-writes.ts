import mongoose, { type Model } from 'mongoose';
import { fieldProblem, InvalidRequestError } from '../errors/gatehouse-error.ts';

/**
 * Writes of whole documents go through their mongoose schema: types are cast, required fields,
 * enums and bounds are checked and unknown fields refused (the schemas are `strict: 'throw'`)
 * before anything reaches the database. A document that breaks its schema is a 400 naming the
 * fields; the database never sees it.
 */
function asInvalid(error: unknown): unknown {
  if (error instanceof mongoose.Error.ValidationError) {
    // Mongoose's kinds name the problem as zod's do (its English is its own): required, enum, bounds, casts.
    const details = Object.values(error.errors).map((issue) => fieldProblem(issue.path, issue.kind === 'required' ? 'required' : 'invalid'));
    return new InvalidRequestError(details.map((d) => `${d.path}: ${d.message}`).join('; '), details);
  }
  if (error instanceof mongoose.Error.StrictModeError) return new InvalidRequestError(error.message, [fieldProblem(error.path, 'unknown_field')]);
  return error;
}

async function hydrate<T>(model: Model<T>, doc: T) {
  try {
    const hydrated = new model(doc);
    await hydrated.validate();
    return hydrated;
  } catch (error) {
    throw asInvalid(error);
  }
}

/** The document as its schema stores it (cast, defaults applied), or an InvalidRequestError. */
export async function validated<T>(model: Model<T>, doc: T): Promise<T> {
  return (await hydrate(model, doc)).toObject() as T;
}

/** Inserts a new document (duplicate keys surface as the driver's E11000 error, as before). */
export async function insertValidated<T>(model: Model<T>, doc: T): Promise<void> {
  await (await hydrate(model, doc)).save({ validateBeforeSave: false });
}

/** Replaces (or creates) the document with the same `_id`; true when it was created. */
export async function upsertValidated<T extends { _id: string }>(model: Model<T>, doc: T): Promise<boolean> {
  const checked = await validated(model, doc);
  const result = await model.replaceOne({ _id: doc._id }, checked, { upsert: true });
  return result.upsertedCount === 1;
}
