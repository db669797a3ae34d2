import { expect } from 'chai';
import { maskedAddress } from '../../src/accounts/email-change-notice.ts';

/** The new address as the notice to the old mailbox shows it: its first character as a reader sees it, then the domain. */
describe('the masked address in the email-change notice', () => {
  it('shows the first letter and the domain', () => {
    expect(maskedAddress('alice@example.com')).to.equal('a…@example.com');
    expect(maskedAddress('𠮷野@example.jp')).to.equal('𠮷…@example.jp');
  });

  it('shows a flag or an emoji sequence that starts the address whole, never its first half', () => {
    expect(maskedAddress('🇩🇪fan@example.com')).to.equal('🇩🇪…@example.com');
    expect(maskedAddress('👩\u200D💻dev@example.com')).to.equal('👩\u200D💻…@example.com');
  });
});
