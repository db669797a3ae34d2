import { Schema, type Connection, type Model } from 'mongoose';

/** A role or a group: its name is the key users carry in `roles` / `groups`. */
export interface StoredLabel {
  _id: string;
  description: string;
  createdAt: Date;
}

const labelSchema = new Schema<StoredLabel>(
  {
    _id: { type: String, required: true },
    description: { type: String, default: '' },
    createdAt: { type: Date, required: true },
  },
  { versionKey: false, strict: 'throw' },
);

export type LabelKind = 'role' | 'group';
export type LabelModel = Model<StoredLabel>;

const NAMES: Record<LabelKind, { model: string; collection: string }> = {
  role: { model: 'Role', collection: 'roles' },
  group: { model: 'Group', collection: 'groups' },
};

export function labelModel(connection: Connection, kind: LabelKind): LabelModel {
  const { model, collection } = NAMES[kind];
  return (connection.models[model] as LabelModel | undefined) ?? connection.model<StoredLabel>(model, labelSchema.clone(), collection);
}
