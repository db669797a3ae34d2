import type { User } from './accounts.ts';

/** The one mail this module sends (src/mail/mail-service.ts provides it). */
export interface NoticeMailer<L extends string> {
  send(kind: 'email_changed', to: string, locale: L, model: Readonly<Record<string, unknown>>): Promise<void>;
}

/** Who changed the address: the user on the account page, or an operator (admin API, console). */
export type ChangedBy = 'self' | 'operator';

export interface EmailChangeNoticeDeps<L extends string> {
  readonly mail: NoticeMailer<L>;
  /** The language of the user's mail (their `locale` claim, else the default). */
  readonly localeOf: (user: User) => L;
  readonly now: () => Date;
}

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/**
 * The new address as the old mailbox sees it: its first character and its domain. Enough for the
 * owner to recognise it (or not); not enough to hand a stranger who now reads the old mailbox
 * (an address someone left behind) the one they moved to.
 */
export function maskedAddress(email: string): string {
  const at = email.lastIndexOf('@');
  // The first character as a reader sees it (a grapheme): a flag or an emoji sequence whole, never its first half.
  const [first] = graphemes.segment(email.slice(0, at));
  return `${first?.segment ?? ''}…${email.slice(at)}`;
}

/** The moment, in the user's language and time zone (their `zoneinfo`, else UTC), naming the zone. */
export function noticeTime(at: Date, locale: string, zoneinfo: string | undefined): string {
  const format = (timeZone: string) =>
    new Intl.DateTimeFormat(locale, { year: 'numeric', month: 'long', day: 'numeric', hour: '2-digit', minute: '2-digit', timeZone, timeZoneName: 'short' }).format(at);
  try {
    return format(zoneinfo ?? 'UTC');
  } catch {
    return format('UTC');
  }
}

/**
 * Tells the previous address of an account that its address changed or was removed: what, when,
 * by whom (the user or an operator) and where to get help. It carries no link into Gatehouse, so
 * nothing in it can sign in, confirm or undo anything (Keycloak's and Auth0's notices alike).
 */
export function emailChangeNotice<L extends string>(deps: EmailChangeNoticeDeps<L>) {
  return async (user: User, previousEmail: string, by: ChangedBy): Promise<void> => {
    const locale = deps.localeOf(user);
    await deps.mail.send('email_changed', previousEmail, locale, {
      name: user.name !== null && user.name !== '' ? user.name : user.username,
      when: noticeTime(deps.now(), locale, user.attributes.zoneinfo),
      address: user.email === null ? null : maskedAddress(user.email),
      by,
    });
  };
}
