/**
 * Wraps a secret setting so it cannot end up in a log line or a JSON dump by accident:
 * every string conversion yields a placeholder; `reveal()` is the one explicit way out.
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return '[secret]';
  }

  toJSON(): string {
    return '[secret]';
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return '[secret]';
  }
}
