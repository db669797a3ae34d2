/// <reference lib="dom" />
import { endIdleSession, stored, type ConsoleSettings } from './auth.ts';

const LAST_ACTIVE = 'gatehouse.console.active';
const ACTIVITY = ['pointerdown', 'keydown', 'wheel', 'touchstart'] as const;
const CHECK_MS = 10_000;

/**
 * Signs the operator out after `settings.idleSeconds` without a click, key press or scroll in
 * this tab (loading the console counts as activity).
 */
export function watchIdle(settings: ConsoleSettings, onIdle: () => void): void {
  const mark = () => sessionStorage.setItem(LAST_ACTIVE, String(Date.now()));
  mark();
  for (const type of ACTIVITY) window.addEventListener(type, mark, { passive: true, capture: true });
  const timer = window.setInterval(() => {
    if (stored() === undefined) return;
    const last = Number(sessionStorage.getItem(LAST_ACTIVE) ?? Date.now());
    if (Date.now() - last < settings.idleSeconds * 1000) return;
    window.clearInterval(timer);
    for (const type of ACTIVITY) window.removeEventListener(type, mark, { capture: true });
    sessionStorage.removeItem(LAST_ACTIVE);
    void endIdleSession(settings).then(onIdle);
  }, CHECK_MS);
}
