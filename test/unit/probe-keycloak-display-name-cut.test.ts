import { expect } from 'chai';
import type { UnmappedItem } from '../../src/keycloak/export-json.ts';
import { mapRealmSettings } from '../../src/keycloak/map-realm-settings.ts';

/**
 * Probe (probe26): the Keycloak import report names a realm display name too long for
 * GATEHOUSE_BRAND_NAME by its first 40 characters — whole characters, as every other cut a
 * reader sees: an emoji across the boundary was cut in half (a lone surrogate in the report).
 */
describe('probe: a long Keycloak display name is named in the report by whole characters', () => {
  it('keeps an emoji across the 40th code unit out whole, never half of it', () => {
    const unmapped: UnmappedItem[] = [];
    mapRealmSettings({ realm: 'acme', displayName: `${'x'.repeat(39)}😀${'y'.repeat(60)}` }, unmapped);
    const names = unmapped.map((item) => item.name).filter((name) => name.startsWith('displayName '));
    expect(names).to.deep.equal([`displayName ${'x'.repeat(39)}…`]);
    expect(names.some((name) => /[\ud800-\udfff]/.test(name.replace(/[\ud800-\udbff][\udc00-\udfff]/g, ''))), 'a lone surrogate').to.equal(false);
  });
});
