/** Gatehouse's administrator role: it opens the admin console and API (src/admin/auth.ts). A module of its own, so that any folder may name it. */
export const ADMIN_ROLE = 'admin';
