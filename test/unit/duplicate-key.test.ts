import { expect } from 'chai';
import { isDuplicateKey } from '../../src/storage/duplicate-key.ts';

describe('isDuplicateKey (src/storage/duplicate-key.ts)', () => {
  it("is MongoDB's E11000, and FerretDB-on-PostgreSQL's unique violation that a findAndModify answers instead", () => {
    expect(isDuplicateKey({ code: 11000, message: 'E11000 duplicate key error collection: users index: emailKey_1' })).to.equal(true);
    // As FerretDB v1.24 with the PostgreSQL backend answers a findOneAndUpdate onto a taken unique key.
    const ferret = Object.assign(new Error('[msg_findandmodify.go:196 handler.(*Handler).findAndModifyDocument] [update.go:114 common.UpdateDocument] ERROR: duplicate key value violates unique constraint "users_5e7cc513_emailkey_unique_15f0c130_idx" (SQLSTATE 23505)'), { code: 1 });
    expect(isDuplicateKey(ferret)).to.equal(true);
  });

  it("is FerretDB-on-SQLite's unique constraint failure that an update or findAndModify answers instead", () => {
    // As FerretDB v1.24 with the SQLite backend answers updateOne / findOneAndUpdate onto a taken unique key.
    const sqlite = Object.assign(new Error("[msg_findandmodify.go:196 handler.(*Handler).findAndModifyDocument] [update.go:114 common.UpdateDocument] [collection.go:191 sqlite.(*collection).UpdateAll] [collection.go:177 sqlite.(*collection).UpdateAll.func1] constraint failed: UNIQUE constraint failed: index 'users_5e7cc513_emailKey_unique' (2067)"), { code: 1 });
    expect(isDuplicateKey(sqlite)).to.equal(true);
  });

  it('is nothing else', () => {
    for (const error of [undefined, null, 'E11000', new Error('boom'), { code: 11001 }, { code: 1, message: 'ERROR: deadlock detected (SQLSTATE 40P01)' }, { code: 1, message: 'constraint failed: NOT NULL constraint failed: t.x (1299)' }]) expect(isDuplicateKey(error), String(error)).to.equal(false);
  });
});
