import { expect } from 'chai';
import { z } from 'zod';
import { attributeChanges, initialAttributes, profileAttributesInput } from '../../src/accounts/profile-attributes.ts';

const schema = z.object(profileAttributesInput).strict();
const accepts = (input: Record<string, unknown>) => schema.safeParse(input).success;

describe('profile attributes: formats (OIDC Core 5.1) and patch rules', () => {
  it('birthdate: YYYY-MM-DD on a real calendar day, 0000-MM-DD, or YYYY', () => {
    for (const ok of ['1815-12-10', '2000-02-29', '0000-02-29', '0000-12-09', '1906']) expect(accepts({ birthdate: ok }), ok).to.equal(true);
    for (const bad of ['1900-02-29', '1815-13-01', '1815-12-32', '0000', '18151210', '1815-1-1', ' 1815']) expect(accepts({ birthdate: bad }), bad).to.equal(false);
  });

  it('zoneinfo is an IANA zone; locale a BCP 47 tag with hyphens; phone E.164 with an optional extension', () => {
    for (const ok of ['Europe/Paris', 'America/Argentina/Buenos_Aires', 'UTC', 'Etc/GMT+5']) expect(accepts({ zoneinfo: ok }), ok).to.equal(true);
    for (const bad of ['Europe/Atlantis', 'CET; drop', '../etc/passwd']) expect(accepts({ zoneinfo: bad }), bad).to.equal(false);
    for (const ok of ['en', 'en-US', 'zh-Hans-CN', 'sr-Latn']) expect(accepts({ locale: ok }), ok).to.equal(true);
    for (const bad of ['en_US', 'english please', 'e', 'en--US']) expect(accepts({ locale: bad }), bad).to.equal(false);
    for (const ok of ['+16045551234', '+442071234567;ext=42']) expect(accepts({ phone_number: ok }), ok).to.equal(true);
    for (const bad of ['16045551234', '+0123', '+1 604 555 1234', '+1604555123456789']) expect(accepts({ phone_number: bad }), bad).to.equal(false);
  });

  it('a malformed zoneinfo or locale is named once (the 400 lists one detail per field, not the same rule twice)', () => {
    for (const input of [{ locale: 'en_US!' }, { zoneinfo: 'CET; drop' }]) {
      const result = schema.safeParse(input);
      expect(result.success).to.equal(false);
      expect(result.error!.issues.map((issue) => issue.path.join('.')), JSON.stringify(input)).to.have.length(1);
    }
  });

  it('URLs are http(s) only; text is trimmed and never empty', () => {
    expect(schema.parse({ picture: ' https://x.example/a.png ' }).picture).to.equal('https://x.example/a.png');
    for (const bad of ['javascript:alert(1)', 'data:image/png;base64,AA', '//x.example/a.png', 'https://']) expect(accepts({ picture: bad }), bad).to.equal(false);
    expect(accepts({ nickname: '   ' })).to.equal(false);
    expect(accepts({ nickname: null })).to.equal(true);
  });

  it('a new or removed phone number is unverified unless the patch says otherwise; only true is stored', () => {
    expect(Object.fromEntries(attributeChanges({ phone_number: '+16045551234' }))).to.deep.equal({ phone_number: '+16045551234', phone_number_verified: null });
    expect(Object.fromEntries(attributeChanges({ phone_number: '+16045551234', phone_number_verified: true }))).to.deep.equal({ phone_number: '+16045551234', phone_number_verified: true });
    expect(Object.fromEntries(attributeChanges({ phone_number: null, phone_number_verified: true }))).to.deep.equal({ phone_number: null, phone_number_verified: null });
    expect(Object.fromEntries(attributeChanges({ phone_number_verified: false }))).to.deep.equal({ phone_number_verified: null });
    expect(initialAttributes({ nickname: 'ada', phone_number: '+16045551234', phone_number_verified: false, gender: null })).to.deep.equal({ nickname: 'ada', phone_number: '+16045551234' });
  });
});
