import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { createViews } from '../../src/interactions/views.ts';

// A name refused on the registration form (a hidden character): the name field, not the email, is marked invalid and described by the error.
describe('the registration page with a refused name', () => {
  const views = createViews({
    directory: fileURLToPath(new URL('../../views', import.meta.url)),
    brand: { name: 'Gatehouse', logoUrl: undefined, primaryColor: '#1f5fbf', supportUrl: undefined },
  });
  const render = (model: Record<string, unknown>) =>
    views.render('register', 'en' as never, {
      title: 'x', available: true, clientName: 'Expense Tracker', csrf: 'c', name: 'Bob', email: 'bob@example.org', domains: '', minLength: 8,
      paths: { interaction: '/interaction' }, uid: 'u', signInHref: '/interaction/u', ...model,
    });
  const input = (html: string, id: string) => html.match(new RegExp(`<input id="${id}"[^>]*>`))![0];

  it('marks the name field for a name error', async () => {
    const html = await render({ error: 'Remove the invisible character', nameInvalid: true });
    expect(input(html, 'name')).to.contain('aria-invalid="true"').and.contain('aria-describedby="register-error"');
    expect(input(html, 'email')).to.contain('aria-describedby="email-hint"');
  });

  it('an email error still describes the email field', async () => {
    const html = await render({ error: 'Enter a valid email address' });
    expect(input(html, 'name')).not.to.contain('aria-invalid');
    expect(input(html, 'email')).to.contain('aria-describedby="email-hint register-error"');
  });
});
