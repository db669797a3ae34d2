import { Schema, type Connection, type Model } from 'mongoose';

/**
 * The whole key set lives in one document so that creation (insert-if-absent on `_id`) and
 * every later change (compare-and-set on `version`) are single-document atomic operations,
 * which FerretDB supports without transactions.
 */
export interface StoredSigningKey {
  kid: string;
  alg: string;
  /** AES-256-GCM sealed private JWK (JSON). */
  sealed: string;
  createdAt: Date;
  /** Signs from this moment; published in JWKS from `createdAt`. */
  activateAt: Date;
  /** Stops signing from this moment; still published for verification. */
  retireAt?: Date | null;
  /** Leaves JWKS at this moment. */
  removeAt?: Date | null;
}

export interface StoredCookieKey {
  id: string;
  sealed: string;
  createdAt: Date;
  activateAt: Date;
  retireAt?: Date | null;
  removeAt?: Date | null;
}

export interface StoredKeySet {
  _id: string;
  version: number;
  /** Counts rotations (not other writes such as pruning): racing rotations see who won. */
  generation?: number;
  createdAt: Date;
  updatedAt: Date;
  signingKeys: StoredSigningKey[];
  cookieKeys: StoredCookieKey[];
}

export const KEY_SET_ID = 'keyset';

const timing = {
  createdAt: { type: Date, required: true },
  activateAt: { type: Date, required: true },
  retireAt: { type: Date, default: null },
  removeAt: { type: Date, default: null },
};

const keySetSchema = new Schema<StoredKeySet>(
  {
    _id: { type: String, required: true },
    version: { type: Number, required: true },
    generation: { type: Number, default: 1 },
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
    signingKeys: [
      new Schema({ kid: { type: String, required: true }, alg: { type: String, required: true }, sealed: { type: String, required: true }, ...timing }, { _id: false }),
    ],
    cookieKeys: [new Schema({ id: { type: String, required: true }, sealed: { type: String, required: true }, ...timing }, { _id: false })],
  },
  { collection: 'keyset', versionKey: false, strict: 'throw' },
);

export type KeySetModel = Model<StoredKeySet>;

export function keySetModel(connection: Connection): KeySetModel {
  return (connection.models.KeySet as KeySetModel | undefined) ?? connection.model<StoredKeySet>('KeySet', keySetSchema);
}
