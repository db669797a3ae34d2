// Passkey buttons of the hosted pages. Served by Gatehouse (no inline script: the CSP forbids
// it); the WebAuthn options come from <script type="application/json"> blocks in the page, the
// browser's answer goes back in the form's hidden "response" field. Without JavaScript or
// WebAuthn the passkey sections stay hidden and the pages work as before.
(function () {
  'use strict';
  var lib = window.SimpleWebAuthnBrowser;
  if (!lib || !lib.browserSupportsWebAuthn()) return;

  function optionsOf(id) {
    return JSON.parse(document.getElementById(id).textContent);
  }

  function send(form, response) {
    form.querySelector('input[name=response]').value = JSON.stringify(response);
    form.submit();
  }

  document.querySelectorAll('.passkey').forEach(function (section) {
    section.hidden = false;
  });

  document.querySelectorAll('[data-passkey]').forEach(function (button) {
    button.addEventListener('click', function () {
      var form = button.closest('form');
      if (form.reportValidity && !form.reportValidity()) return;
      var optionsJSON = optionsOf(button.getAttribute('data-options'));
      var ceremony = button.getAttribute('data-passkey') === 'register' ? lib.startRegistration({ optionsJSON: optionsJSON }) : lib.startAuthentication({ optionsJSON: optionsJSON });
      ceremony.then(function (response) {
        send(form, response);
      }, function () {
        var error = form.querySelector('.passkey-error');
        if (error) error.hidden = false;
      });
    });
  });

  // Autofill (conditional UI): the browser offers passkeys in the username field's suggestions.
  var autofill = document.querySelector('form[data-passkey-autofill]');
  if (autofill && lib.browserSupportsWebAuthnAutofill) {
    lib.browserSupportsWebAuthnAutofill().then(function (supported) {
      if (!supported) return;
      lib.startAuthentication({ optionsJSON: optionsOf(autofill.getAttribute('data-options')), useBrowserAutofill: true }).then(function (response) {
        send(autofill, response);
      }, function () {});
    });
  }
})();
