/**
 * The configuration reference in the README, rendered from the schema ({@link configKeys}) so that
 * it cannot drift from what the daemon reads: every key with its type, default and meaning. The
 * README holds it between two markers; `make docs` rewrites that section, a unit test compares it.
 */
import type { WatcherSpec } from './watcher-keys.js';
import { DocsMarkersError } from '../errors.js';
import { reloadable } from './diff.js';
import { configKeys, defaultText, envName, type ConfigKey } from './schema.js';

export const REFERENCE_START = '<!-- config-reference:start -->';
export const REFERENCE_END = '<!-- config-reference:end -->';

/** Markdown table cell text: pipes escaped. */
export function cell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

/** The default as the reference shows it: code, `[]` for an empty list, never a secret. */
export function defaultCell(k: ConfigKey): string {
  if (Array.isArray(k.field.default) && k.field.default.length === 0) return '`[]`';
  if (k.field.secret) return k.field.default === '' ? '`""`' : '(secret)';
  const text = defaultText(k);
  return text === '' ? '`""`' : `\`${text}\``;
}

/** The reference as Markdown (without the markers). */
export function renderConfigReference(watchers: readonly WatcherSpec[]): string {
  // prettier-ignore keeps `prettier --write .` from re-padding the table, which would fail the drift test.
  const out = [
    '<!-- Generated from the schema by `make docs` (test/tools/gen-config-reference.ts); do not edit by hand. -->',
    '<!-- prettier-ignore-start -->',
    '',
    '| key | type | default | on SIGHUP | meaning |',
    '|---|---|---|---|---|',
  ];
  for (const k of configKeys(watchers)) {
    const meaning = `${k.field.doc}${k.field.secret ? ' Secret: printed as `***`.' : ''} Env: \`${envName(k.key)}\`.`;
    const reload = reloadable(k.key) ? 'applied' : 'restart';
    out.push(
      `| \`${k.key}\` | ${cell(k.field.kind)} | ${cell(defaultCell(k))} | ${reload} | ${cell(meaning)} |`,
    );
  }
  out.push('', '<!-- prettier-ignore-end -->');
  return `${out.join('\n')}\n`;
}

/** The text between the markers, or undefined when the markers are missing or out of order. */
export function extractReference(readme: string): string | undefined {
  const start = readme.indexOf(REFERENCE_START);
  const end = readme.indexOf(REFERENCE_END);
  if (start < 0 || end < start) return undefined;
  return readme.slice(start + REFERENCE_START.length, end).replace(/^\n/, '');
}

/**
 * Puts `reference` between the markers.
 * @throws DocsMarkersError when the README lacks the markers (add them where the section belongs).
 */
export function replaceReference(readme: string, reference: string): string {
  const start = readme.indexOf(REFERENCE_START);
  const end = readme.indexOf(REFERENCE_END);
  if (start < 0 || end < start) {
    throw new DocsMarkersError(`README has no ${REFERENCE_START} ... ${REFERENCE_END} section`);
  }
  return `${readme.slice(0, start + REFERENCE_START.length)}\n${reference}${readme.slice(end)}`;
}
