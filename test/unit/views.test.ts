import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { createViews } from '../../src/interactions/views.ts';

const brand = { name: 'Acme', logoUrl: 'https://cdn.acme.example/logo.svg', primaryColor: '#0a7e3d', supportUrl: 'https://help.acme.example' };

describe('template overrides', () => {
  const views = createViews({
    directory: fileURLToPath(new URL('../../views', import.meta.url)),
    overrides: fileURLToPath(new URL('../fixtures/views-override', import.meta.url)),
    brand,
  });

  it('uses the operator file where one exists and merges operator strings over the built-in ones', async () => {
    const html = await views.render('signed-out', 'en', { title: 'x' });
    expect(html).to.contain('Bye from Acme').and.contain('Acme says: you left Acme.');
    expect(html).to.contain('src="https://cdn.acme.example/logo.svg"').and.contain('href="https://help.acme.example"');
  });

  it('falls back to the built-in template and strings for everything else', async () => {
    const html = await views.render('device-success', 'ru', { title: 'x', clientName: 'TV' });
    expect(html).to.contain('Устройство подключено');
    expect(views.theme).to.contain('--primary: #0a7e3d');
  });

  it('refuses a template directory that does not exist', () => {
    expect(() => createViews({ directory: '.', overrides: '/nonexistent/views', brand })).to.throw(/GATEHOUSE_VIEWS_DIR/);
  });
});
