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
