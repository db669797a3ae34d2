/**
 * The longest a client's previous secret keeps working after a rotation: 30 days (Keycloak's
 * rotation policy allows as long). The admin API's grace_seconds and `gatehouse import` hold to it.
 */
export const MAX_SECRET_GRACE_SECONDS = 2_592_000;
