import { EXIT } from './gatehouse-error.ts';
import { SettingError } from './setting-error.ts';

/** Raised when startup cannot go on for a setting's sake (a store out of reach, a port in use); names the setting, exit 1. */
export class StartupError extends SettingError {
  constructor(setting: string, message: string) {
    super(setting, message, EXIT.failure);
  }
}
