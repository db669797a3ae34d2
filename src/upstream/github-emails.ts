import type { UpstreamProvider } from './directory.ts';

/**
 * GitHub's fallback for a private email: `/user` then says `email: null`, and
 * `GET <api>/user/emails` (scope `user:email`, same access token) lists the addresses with
 * `primary` and `verified`. Only the primary verified address is taken; an unverified primary
 * is not used (it must never link accounts by email).
 */

interface GithubEmail {
  readonly email?: unknown;
  readonly primary?: unknown;
  readonly verified?: unknown;
}

/**
 * The emails endpoint beside the user endpoint (`https://api.github.com/user` →
 * `https://api.github.com/user/emails`, GitHub Enterprise `…/api/v3/user` likewise), for an
 * `oauth2` provider shaped like the github preset: it asks for `user:email` and reads `…/user`.
 */
export function githubEmailsUrl(provider: Pick<UpstreamProvider, 'kind' | 'scopes' | 'userinfo_endpoint'>): URL | undefined {
  if (provider.kind !== 'oauth2' || provider.userinfo_endpoint === null || !provider.scopes.includes('user:email')) return undefined;
  const url = new URL(provider.userinfo_endpoint);
  if (!url.pathname.endsWith('/user') || url.search !== '') return undefined;
  url.pathname = `${url.pathname}/emails`;
  return url;
}

/** The primary, verified address of a `/user/emails` answer; undefined when there is none. */
export function primaryVerifiedEmail(body: unknown): string | undefined {
  if (!Array.isArray(body)) return undefined;
  const primary = (body as GithubEmail[]).find((entry) => entry !== null && typeof entry === 'object' && entry.primary === true);
  if (primary === undefined || primary.verified !== true || typeof primary.email !== 'string' || !primary.email.includes('@')) return undefined;
  return primary.email;
}
