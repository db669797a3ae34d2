// Hosted pages' only script (served from 'self': the page CSP allows no inline script).
// Show-password toggles: <button data-password-toggle="INPUT_ID" data-show="…" data-hide="…" hidden>.
// The button is hidden until this script runs, so pages work the same without JavaScript.
for (const button of document.querySelectorAll('button[data-password-toggle]')) {
  const input = document.getElementById(button.dataset.passwordToggle);
  if (!(input instanceof HTMLInputElement)) continue;
  const show = (visible) => {
    input.type = visible ? 'text' : 'password';
    button.setAttribute('aria-pressed', String(visible));
    button.textContent = visible ? button.dataset.hide : button.dataset.show;
  };
  button.addEventListener('click', () => {
    show(input.type === 'password');
    input.focus();
  });
  // A visible password is never submitted as a remembered text field.
  input.form?.addEventListener('submit', () => show(false));
  show(false);
  button.hidden = false;
}

// A sign-out the application asked for with a valid id_token_hint needs no confirmation (as in
// Keycloak): the page's form carries logout=yes and goes at once; without JavaScript it shows a button.
for (const form of document.querySelectorAll('form[data-auto-submit]')) form.submit();
