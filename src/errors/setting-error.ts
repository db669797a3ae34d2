import { EXIT, GatehouseError } from './gatehouse-error.ts';

/** An error that is some setting's fault; its message starts with the setting's name. The CLI and the server exit 78 (EX_CONFIG). */
export class SettingError extends GatehouseError {
  readonly setting: string;

  constructor(setting: string, message: string, exitCode: number = EXIT.config) {
    super(`${setting}: ${message}`, { status: 500, code: 'server_error', expose: false, exitCode });
    this.setting = setting;
  }
}
