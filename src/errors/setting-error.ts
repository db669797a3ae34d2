/** An error that is some setting's fault; its message starts with the setting's name. */
export class SettingError extends Error {
  readonly setting: string;

  constructor(setting: string, message: string) {
    super(`${setting}: ${message}`);
    this.name = 'SettingError';
    this.setting = setting;
  }
}
