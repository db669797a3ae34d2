import { interactionPolicy } from 'oidc-provider';
import { CREATE_PROMPT } from '../../oidc/interaction-policy.ts';
import type { RegistrationPart } from './registration.ts';
import type { SignInStep, StepContext } from './step.ts';

const { Prompt } = interactionPolicy;
/** The library's own words for a prompt value it does not support. */
const UNSUPPORTED = 'unsupported prompt value requested';

/**
 * `prompt=create` (OpenID Connect "Initiating User Registration via OpenID Connect 1.0"): the
 * authorization opens on the registration form instead of the sign-in form. The prompt is
 * requestable, so the library lists it as supported and asks it only when the request names
 * it. "Sign in" on the form, on the "check your email" page and behind the emailed link's
 * Continue all end this step; the library then asks for the sign-in, and the authorization goes
 * on to the app with the new account.
 */
export function createAccountStep(registration: RegistrationPart): SignInStep {
  const onward = (step: StepContext) => `${registration.interactionPath}/${encodeURIComponent(step.details.uid)}/signin`;
  return {
    name: CREATE_PROMPT,
    prompt: () => new Prompt({ name: CREATE_PROMPT, requestable: true }),
    view: 'register',
    async show(step) {
      // Self-registration is a runtime setting: while it is off, the request gets the answer an
      // unsupported prompt value gets (discovery does not list it then either).
      if (!(await registration.linked())) return step.finish({ error: 'invalid_request', error_description: UNSUPPORTED });
      return registration.page(step, { signInHref: onward(step) });
    },
    pages: {
      // A link, so a GET: it only moves this authorization on to its sign-in page.
      signin: (step) => step.finish({ [CREATE_PROMPT]: {} }),
    },
    actions: {
      async register(step, form) {
        await registration.action(step, form, { signInHref: onward(step) });
      },
    },
  };
}
