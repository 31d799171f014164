/**
 * HTML built so that no dynamic text can become markup: {@link markup} escapes every value it is
 * given unless the value is itself {@link Html} (made by this same tag), so a watcher's error, a
 * pause note or an instance name is text on the page whatever characters it holds.
 */

/** Markup made by {@link markup} (or {@link raw} for constant text of this module's callers). */
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

/** What {@link markup} takes between its pieces. */
export type HtmlValue = Html | string | number | boolean | null | undefined | readonly HtmlValue[];

const ENTITIES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Text as HTML text or attribute value (both quote kinds escaped). */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);
}

function piece(v: HtmlValue): string {
  if (v instanceof Html) return v.text;
  if (v === null || v === undefined || v === false) return '';
  if (Array.isArray(v)) return (v as readonly HtmlValue[]).map(piece).join('');
  return escapeHtml(String(v));
}

/** Template tag: the literal parts are markup, every value is escaped (arrays are joined). */
export function markup(parts: TemplateStringsArray, ...values: readonly HtmlValue[]): Html {
  let out = parts[0] ?? '';
  values.forEach((v, i) => {
    out += piece(v) + (parts[i + 1] ?? '');
  });
  return new Html(out);
}

/** Trusted constant markup (never pass it data). */
export function raw(text: string): Html {
  return new Html(text);
}
