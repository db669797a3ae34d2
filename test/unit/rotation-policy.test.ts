import { expect } from 'chai';
import { consumeStateOf, createJustFound } from '../../src/storage/oidc/consume-state.ts';
import { createHeldSuccessors } from '../../src/storage/oidc/held-successors.ts';
import type { OidcDocument } from '../../src/storage/oidc/mongo-documents.ts';
import { claimOf, createRotationClaims, type ClaimHolder } from '../../src/storage/oidc/rotation-claims.ts';
import { markerVerdict, type RotationView } from '../../src/storage/oidc/rotation-verdicts.ts';

const doc = (id: string, grantId = 'g'): OidcDocument => ({ _id: id, payload: '{}', grantId, expiresAt: new Date(10_000_000) });

/** The refresh rotation's policy, apart from the stores (src/storage/oidc/refresh-rotation.ts and its parts). */
describe('refresh rotation policy (storage)', () => {
  describe('markerVerdict: a rotation meets its token\'s marker', () => {
    const view = (atMs: number, foundAtMs: number, markerRead = false) => ({ atMs, foundAtMs, markerRead });
    const verdict = (rotatedAtMs: number, rotation: RotationView | undefined, atMs: number, windowSeconds: number, successors: { marker?: string; ours?: string } = {}) =>
      markerVerdict({ rotatedAtMs, successorId: successors.marker }, { rotation, atMs, windowSeconds, successorId: successors.ours });

    it('naming this rotation\'s own successor: an earlier send of the same completion committed (its reply was lost)', () => {
      expect(verdict(4_000, view(5_000, 4_000), 5_000, 0, { marker: 's1', ours: 's1' }), 'not reuse, though before the find').to.equal('ours');
      expect(verdict(1_000, view(5_000, 4_000), 5_000, 0, { marker: 's1', ours: 's2' }), 'another rotation\'s').to.equal('reuse');
      expect(verdict(1_000, view(5_000, 4_000), 5_000, 0, { ours: 's1' }), 'a marker naming no successor is not ours').to.equal('reuse');
      expect(verdict(1_000, view(5_000, 4_000), 5_000, 0, { marker: 's1' }), 'a consume has no successor yet').to.equal('reuse');
    });

    it('inside the reuse window (from the first rotation, as the claim saw it): goes ahead', () => {
      expect(verdict(1_000, view(5_000, 4_000), 60_000, 10)).to.equal('window');
      expect(verdict(1_000, view(10_999, 4_000), 60_000, 10), 'the claim\'s time counts, not the completion\'s').to.equal('window');
      expect(verdict(1_000, view(11_000, 2_000), 11_000, 10), 'the window ends before rotatedAtMs + window').to.equal('reuse');
    });

    it('strict: a marker written before this request found the token is reuse, a tie included', () => {
      expect(verdict(1_000, view(5_000, 4_000), 5_000, 0)).to.equal('reuse');
      expect(verdict(4_000, view(5_000, 4_000), 5_000, 0), 'the same millisecond').to.equal('reuse');
    });

    it('a marker written after this request\'s find is a lost race, not reuse', () => {
      expect(verdict(4_001, view(5_000, 4_000), 5_000, 0)).to.equal('lost');
    });

    it('never reuse when the find read the marker (the library judged that) or the rotation has no view of itself', () => {
      expect(verdict(1_000, view(5_000, 4_000, true), 5_000, 0)).to.equal('lost');
      expect(verdict(1_000, undefined, 5_000, 0)).to.equal('lost');
      expect(verdict(1_000, undefined, 5_000, 10), 'without a claim the window counts from now').to.equal('window');
    });
  });

  describe('held successors', () => {
    it('holds a successor until taken, once', () => {
      const written: string[] = [];
      const held = createHeldSuccessors(10, 60_000, async (successor) => void written.push(successor._id));
      held.hold(doc('s1'), 0);
      expect(held.take('s1')).to.have.property('_id', 's1');
      expect(held.take('s1'), 'taken once').to.equal(undefined);
      expect(written).to.deep.equal([]);
    });

    it('writes a successor on its own once overdue or pushed out by the bound (never lost)', () => {
      const written: string[] = [];
      const held = createHeldSuccessors(2, 60_000, async (successor) => void written.push(successor._id));
      held.hold(doc('s1'), 0);
      held.hold(doc('s2'), 1);
      held.hold(doc('s3'), 2);
      expect(written, 'the oldest, beyond the bound').to.deep.equal(['s1']);
      held.hold(doc('s4'), 60_001);
      expect(written, 'held for the hold or longer').to.deep.equal(['s1', 's2']);
      expect(held.take('s2')).to.equal(undefined);
      expect(held.take('s3'), 'not yet overdue').to.have.property('_id', 's3');
      expect(held.take('s4')).to.have.property('_id', 's4');
    });

    it('a failed lone write is swallowed (the completion would have failed the same way)', () => {
      const held = createHeldSuccessors(0, 60_000, () => Promise.reject(new Error('down')));
      expect(() => held.hold(doc('s1'), 0)).not.to.throw();
    });
  });

  describe('rotation claims', () => {
    const state = consumeStateOf(doc('t'), 900, false);

    it('remembers what the completion needs from the consume, and gives it once', () => {
      const claims = createRotationClaims(10);
      claims.remember('t', claimOf(state, 1_000, true));
      expect(claims.take('t')).to.deep.equal({ atMs: 1_000, inRedis: true, foundAtMs: 900, markerRead: false, expiresAt: state.expiresAt, grantId: 'g' });
      expect(claims.take('t')).to.equal(undefined);
    });

    it('is bounded: the oldest claim goes first', () => {
      const claims = createRotationClaims(1);
      claims.remember('a', claimOf(state, 1, false));
      claims.remember('b', claimOf(state, 2, false));
      expect(claims.take('a')).to.equal(undefined);
      expect(claims.take('b')).to.have.property('atMs', 2);
    });

    it('per rotation inside a request\'s scope: two rotations of one token keep their own claims', () => {
      let current: ClaimHolder | undefined;
      const claims = createRotationClaims(10, () => current);
      const first: ClaimHolder = {};
      const second: ClaimHolder = {};
      current = first;
      claims.remember('t', claimOf(state, 1_000, true));
      current = second;
      claims.remember('t', claimOf(state, 2_000, false));
      current = first;
      expect(claims.take('t'), 'the first request\'s own claim (it holds Redis)').to.include({ atMs: 1_000, inRedis: true });
      expect(claims.take('t'), 'once').to.equal(undefined);
      current = second;
      expect(claims.take('t')).to.include({ atMs: 2_000, inRedis: false });
      current = undefined;
      expect(claims.take('t'), 'nothing was kept by token id').to.equal(undefined);
    });

    it('a scope gives only the claim of the token it rotated', () => {
      const holder: ClaimHolder = {};
      const claims = createRotationClaims(10, () => holder);
      claims.remember('t', claimOf(state, 1_000, true));
      expect(claims.take('other')).to.equal(undefined);
      expect(claims.take('t')).to.have.property('atMs', 1_000);
    });
  });

  describe('just found (find → consume in one request)', () => {
    it('gives what find read to the consume moments later, once, and not when stale', () => {
      const found = createJustFound(10, 5_000);
      found.remember('RefreshToken:a', consumeStateOf(doc('a'), 1_000, false));
      expect(found.take('RefreshToken:a', 1_500)).to.include({ foundAtMs: 1_000, markerRead: false, grantId: 'g' });
      expect(found.take('RefreshToken:a', 1_500), 'once').to.equal(undefined);
      found.remember('RefreshToken:b', consumeStateOf(doc('b'), 1_000, true));
      expect(found.take('RefreshToken:b', 6_000), 'stale: consume reads afresh').to.equal(undefined);
    });
  });
});
