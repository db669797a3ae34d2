/// <reference lib="dom" />
/**
 * The page a browser app shows without a session (the account page, the console): a card like
 * the hosted pages' sign-in, which its button leads to — their width, corners, shadow and one
 * full-width button (base.css, `main.signed-out`), the operator's name over it where the heading
 * does not name the product.
 */
import { h, render } from './dom.ts';

export interface SignInCard {
  /** Over the card (the account page: the operator's brand). */
  readonly product?: string;
  readonly heading: string;
  /** Why the last sign-in did not happen (an alert at the top of the card). */
  readonly failure?: string | undefined;
  readonly text: string;
  readonly button: string;
  readonly onSignIn: () => void;
}

export function signInCard(main: HTMLElement, card: SignInCard): void {
  main.classList.add('signed-out');
  render(
    main,
    card.product === undefined ? null : h('p', { class: 'product' }, card.product),
    h(
      'section',
      { class: 'sign-in-card', 'aria-labelledby': 'sign-in-heading' },
      h('h1', { id: 'sign-in-heading' }, card.heading),
      card.failure === undefined ? null : h('div', { class: 'alert', role: 'alert' }, card.failure),
      h('p', { class: 'lead' }, card.text),
      h('button', { type: 'button', class: 'wide', onclick: card.onSignIn }, card.button),
    ),
  );
}
