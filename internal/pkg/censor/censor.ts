/**
 * Secret texts (passwords, tokens) and their removal from whatever is about to be shown: log lines,
 * error messages, status output. Where a text is about a secret by its key, the key's formatter has
 * already hidden it; this is for text that quotes a value without knowing what it is (a failed run's
 * error, a check's message).
 */

/** What a secret is shown as. */
export const CENSOR = '***';

/**
 * A set of secrets that only grows: after a reload brings a new value, lines about runs that used
 * the old one may still come. Empty strings are ignored (there is nothing to hide).
 */
export class Secrets {
  /** Each secret as it is and as JSON writes it inside a string (`a"b` -> `a\"b`), longest first. */
  #plain: string[] = [];
  /** The JSON forms only: what can appear inside a JSON line without being JSON syntax. */
  #json: string[] = [];

  constructor(values: Iterable<string> = []) {
    this.add(values);
  }

  add(values: Iterable<string>): void {
    for (const value of values) {
      if (value === '') continue;
      const json = JSON.stringify(value).slice(1, -1);
      this.#plain = longestFirst(new Set([...this.#plain, value, json]));
      this.#json = longestFirst(new Set([...this.#json, json]));
    }
  }

  /** `text` with every secret replaced by {@link CENSOR}; `text` itself when it holds none. */
  censor(text: string): string {
    return replaceAll(text, this.#plain);
  }

  /**
   * The same for one serialized JSON line: only the escaped forms are looked for, so that a secret
   * made of JSON punctuation cannot break the line's syntax.
   */
  censorJson(line: string): string {
    return replaceAll(line, this.#json);
  }
}

function longestFirst(forms: Set<string>): string[] {
  return [...forms].sort((a, b) => b.length - a.length);
}

function replaceAll(text: string, forms: readonly string[]): string {
  let out = text;
  for (const form of forms) if (out.includes(form)) out = out.split(form).join(CENSOR);
  return out;
}
