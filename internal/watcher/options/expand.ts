/**
 * `${VAR}` and `${VAR:-default}` in configuration values, as the Go project's config template writes
 * them. `$$` is a literal `$`. Expansion works on parsed YAML values, not on the file text, so an
 * expanded value can never change the YAML structure (a password with `: ` or `#` stays one string)
 * and line numbers stay true.
 */

/** The expanded text, or the problem that stopped it. */
export type Expansion = { readonly value: string } | { readonly problem: string };

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Expands variables in `text` from `env`. `${VAR:-default}` uses the default when VAR is unset or
 * empty (as the shell does); `${VAR}` with VAR unset is a problem naming VAR.
 */
export function expandVars(text: string, env: Readonly<Record<string, string | undefined>>): Expansion {
  if (!text.includes('$')) return { value: text };
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c !== '$' || (text[i + 1] !== '{' && text[i + 1] !== '$')) {
      out += c;
      i++;
      continue;
    }
    if (text[i + 1] === '$') {
      out += '$';
      i += 2;
      continue;
    }
    const end = text.indexOf('}', i + 2);
    if (end < 0) return { problem: 'has "${" without a closing "}"' };
    const r = expandOne(text.slice(i + 2, end), env);
    if ('problem' in r) return r;
    out += r.value;
    i = end + 1;
  }
  return { value: out };
}

function expandOne(inner: string, env: Readonly<Record<string, string | undefined>>): Expansion {
  const sep = inner.indexOf(':-');
  const name = sep < 0 ? inner : inner.slice(0, sep);
  if (!NAME.test(name)) {
    return { problem: `\${${name}} is not a variable name (use letters, digits and _)` };
  }
  const value = env[name];
  if (sep >= 0) return { value: value === undefined || value === '' ? inner.slice(sep + 2) : value };
  if (value === undefined) {
    return { problem: `\${${name}} is not set and has no default (write \${${name}:-default} to give one)` };
  }
  return { value };
}
