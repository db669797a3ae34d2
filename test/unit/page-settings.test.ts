import { expect } from 'chai';
import { type ConfigError } from '../../src/config/load.ts';
import { testConfig } from '../helpers/config.ts';

const base = { GATEHOUSE_SECRET: 'x'.repeat(32) };

describe('hosted page settings', () => {
  it('reads branding, support link and template directory', () => {
    const { pages } = testConfig({
      ...base,
      GATEHOUSE_BRAND_NAME: 'Acme SSO',
      GATEHOUSE_BRAND_LOGO_URL: 'https://cdn.acme.example/logo.svg',
      GATEHOUSE_BRAND_PRIMARY_COLOR: '#0A7E3D',
      GATEHOUSE_SUPPORT_URL: 'mailto:it@acme.example',
      GATEHOUSE_VIEWS_DIR: '/etc/gatehouse/views',
    });
    expect(pages).to.deep.equal({
      brandName: 'Acme SSO',
      logoUrl: 'https://cdn.acme.example/logo.svg',
      primaryColor: '#0a7e3d',
      supportUrl: 'mailto:it@acme.example',
      viewsDir: '/etc/gatehouse/views',
    });
    expect(testConfig(base).pages.brandName).to.equal('Gatehouse');
  });

  it('names the setting when a colour or URL is not valid', () => {
    const problems = (settings: Record<string, string>) => {
      try {
        testConfig({ ...base, ...settings });
        return [];
      } catch (error) {
        return (error as ConfigError).problems;
      }
    };
    expect(problems({ GATEHOUSE_BRAND_PRIMARY_COLOR: 'red' })[0]).to.match(/^GATEHOUSE_BRAND_PRIMARY_COLOR: must be a hex colour/);
    expect(problems({ GATEHOUSE_BRAND_PRIMARY_COLOR: '#12345' })).to.have.length(1);
    expect(problems({ GATEHOUSE_BRAND_LOGO_URL: 'javascript:alert(1)' })[0]).to.match(/^GATEHOUSE_BRAND_LOGO_URL:/);
    expect(problems({ GATEHOUSE_SUPPORT_URL: 'ftp://x' })[0]).to.match(/^GATEHOUSE_SUPPORT_URL:/);
  });
});
