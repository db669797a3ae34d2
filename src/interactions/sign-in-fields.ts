/**
 * The name someone signs in with, from a sign-in or "forgot password" form. The pages name the
 * field `username`, as Keycloak's login.ftl does, so an app's own end-to-end tests or scripted
 * sign-ins written against Keycloak's page work unchanged; `login`, the field's earlier name, is
 * still read for scripts written against Gatehouse's earlier pages.
 */
export function signInName(form: Readonly<Record<string, string | undefined>>): string {
  return (form.username ?? form.login ?? '').trim();
}
