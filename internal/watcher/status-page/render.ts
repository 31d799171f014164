/**
 * The status page as HTML: one document, its stylesheet inline (allowed by hash), no script, no
 * form, no link off the page, refreshed by `<meta http-equiv="refresh">`. Every value goes through
 * the {@link markup} tag, which escapes it. (The tag is not called `html` so that the formatter
 * leaves these templates as written: the stylesheet must stay byte for byte what the CSP hashes.)
 */
import { markup, raw, type Html } from './html.js';
import { relative, shortTime, span, utc } from './format.js';
import { HEARTBEAT_MS, INSTANCES_RETAIN_MS, type SeenInstance } from './instances.js';
import type { PageModel, PageRun, PageWatcher } from './model.js';
import { STYLE } from './style.js';

/** A replica seen within this long is live; older ones are listed as not seen for a while. */
const LIVE_MS = 3 * HEARTBEAT_MS;

function resultClass(result: string): string {
  if (result === 'ok') return 'ok';
  if (result === 'failed' || result === 'timeout') return 'bad';
  if (result === 'aborted') return 'warn';
  return 'off';
}

function badge(cls: string, text: string): Html {
  return markup`<span class="badge ${cls}">${text}</span>`;
}

/** `(in 4.0 s)`, kept on one line. */
function rel(ms: number, nowMs: number, paren = true): Html {
  const text = relative(ms, nowMs);
  return markup`<span class="muted rel">${paren ? `(${text})` : text}</span>`;
}

function when(ms: number, nowMs: number): Html {
  return markup`<span class="mono">${utc(ms)}</span> ${rel(ms, nowMs)}`;
}

/**
 * A table cell; its content sits in one element so that, stacked on a phone, the cell is exactly
 * its label (`data-label`) beside its value.
 */
function cell(label: string, content: Html | string, cls = ''): Html {
  const attr = cls ? markup` class="${cls}"` : '';
  return markup`<td data-label="${label}"${attr}><div>${content}</div></td>`;
}

/** A table with its header row. */
function table(cls: string, heads: readonly string[], rows: readonly Html[]): Html {
  return markup`<table class="stack ${cls}"><thead><tr>${heads.map((h) => markup`<th>${h}</th>`)}</tr></thead>
<tbody>${rows}</tbody></table>`;
}

function stateBadges(w: PageWatcher): Html[] {
  const out: Html[] = [];
  if (w.paused) out.push(badge('warn', 'paused'));
  if (w.running) out.push(badge('run', 'running'));
  out.push(w.last ? badge(resultClass(w.last.result), w.last.result) : badge('off', 'never ran'));
  if (w.failureStreak >= 2) {
    out.push(badge('bad', `${w.failureStreak}${w.streakAtLeast ? '+' : ''} failed in a row`));
  }
  if (w.dryRun) out.push(badge('off', 'dry run'));
  return out;
}

function counts(c: PageRun['counts']): string {
  return Object.entries(c)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(', ');
}

function overview(m: PageModel): Html {
  const rows = m.watchers.map((w) => {
    const last = w.last;
    const next = w.next[0];
    return markup`<tr>
${cell('Watcher', markup`<a href="#w-${w.name}">${w.name}</a>`)}
${cell('State', markup`${stateBadges(w)}`)}
${cell('Last run', last ? markup`${shortTime(last.slotMs, m.atMs)} ${rel(last.slotMs, m.atMs, false)}` : '-')}
${cell('Next slot', next === undefined ? '-' : markup`${shortTime(next, m.atMs)} ${rel(next, m.atMs, false)}`)}
</tr>`;
  });
  return markup`<div class="panel">${table('overview', ['Watcher', 'State', 'Last run', 'Next slot'], rows)}</div>`;
}

function runRows(r: PageRun): Html {
  const c = counts(r.counts);
  const manual = r.manual ? markup` <span class="muted">manual</span>` : '';
  return markup`<tr class="entry">
${cell('Slot', markup`<span class="mono">${utc(r.slotMs)}</span>${manual}`)}
${cell('Result', badge(resultClass(r.result), r.result))}
${cell('Duration', span(r.durationMs))}
${cell('Instance', markup`<span class="mono">${r.instance}</span>`)}
</tr>${c ? markup`<tr class="detail"><td colspan="4" data-label="Counts"><div class="mono muted">${c}</div></td></tr>` : ''}${
    r.error
      ? markup`<tr class="detail"><td colspan="4" data-label="Error" class="error"><div>${r.error}</div></td></tr>`
      : ''
  }`;
}

function runsTable(w: PageWatcher): Html {
  if (w.runs.length === 0) return markup`<p class="muted">No run recorded yet.</p>`;
  return markup`<p class="muted">${w.fromHistory ? 'Recent runs, newest first' : 'Last run'}</p>
${table('runs', ['Slot', 'Result', 'Duration', 'Instance'], w.runs.map(runRows))}`;
}

function pausedText(w: PageWatcher, nowMs: number): Html {
  const p = w.paused;
  if (!p) return markup`no`;
  const note = p.note ? markup` — “${p.note}”` : '';
  const since =
    p.sinceMs === undefined
      ? ''
      : markup`<br><span class="muted">since ${utc(p.sinceMs)}</span> ${rel(p.sinceMs, nowMs)}`;
  const by = p.by ? markup`<br><span class="muted">by ${p.by}</span>` : '';
  return markup`<strong>yes</strong>${note}${since}${by}`;
}

function card(w: PageWatcher, nowMs: number): Html {
  const next =
    w.next.length === 0
      ? markup`<span class="muted">${w.mode === 'fixed-delay' ? 'one interval after the current run ends' : 'none'}</span>`
      : markup`<ul class="slots">${w.next.map((t) => markup`<li>${when(t, nowMs)}</li>`)}</ul>`;
  const running = w.running
    ? markup`<span class="mono">${w.running.instance}</span> <span class="muted">since ${utc(w.running.sinceMs)}</span> ${rel(w.running.sinceMs, nowMs)}`
    : 'no';
  const zone =
    w.mode === 'cron' ? markup`<dt>Time zone</dt><dd>${w.timeZone ?? 'the daemon’s local zone'}</dd>` : '';
  return markup`<section class="card" id="w-${w.name}">
<header><h3>${w.name}</h3>${stateBadges(w)}</header>
<dl>
<dt>Schedule</dt><dd><code>${w.schedule}</code></dd>
<dt>Mode</dt><dd>${w.mode}, overlap ${w.overlap}</dd>
${zone}
<dt>Paused</dt><dd>${pausedText(w, nowMs)}</dd>
<dt>Running now</dt><dd>${running}</dd>
<dt>Next slots</dt><dd>${next}</dd>
</dl>
${runsTable(w)}
</section>`;
}

function replicaRow(r: SeenInstance, m: PageModel): Html {
  const age = m.atMs - r.lastSeenMs;
  const self = r.instance === m.self.instance && r.startedMs === m.self.startedMs;
  return markup`<tr>
${cell('Instance', markup`<span class="mono">${r.instance}</span>${self ? markup` <span class="muted">(this page)</span>` : ''}`)}
${cell('State', age <= LIVE_MS ? badge('ok', 'live') : badge('warn', `not seen for ${span(age)}`))}
${cell('Host', markup`<span class="mono">${r.host}</span>`)}
${cell('Version', r.version)}
${cell('Started', markup`<span class="mono">${utc(r.startedMs)}</span>`)}
${cell('Last seen', relative(r.lastSeenMs, m.atMs))}
</tr>`;
}

function replicas(m: PageModel): Html {
  if (m.replicas === undefined) return markup`<p class="muted">The replica list could not be read.</p>`;
  if (m.replicas.length === 0) return markup`<p class="muted">No replica has announced itself yet.</p>`;
  const heads = ['Instance', 'State', 'Host', 'Version', 'Started', 'Last seen'];
  const note =
    m.backend === 'local'
      ? 'lock.backend is local: this daemon works alone.'
      : `Replicas announce themselves every ${span(HEARTBEAT_MS)}; one that stopped without saying so stays listed for ${span(INSTANCES_RETAIN_MS)}.`;
  return markup`<div class="panel">${table(
    'replicas',
    heads,
    m.replicas.map((r) => replicaRow(r, m)),
  )}</div>
<p class="muted">${note}</p>`;
}

/** The whole document. */
export function renderPage(m: PageModel): string {
  const refreshS = Math.max(1, Math.round(m.refreshMs / 1000));
  const problems =
    m.problems.length === 0
      ? ''
      : markup`<div class="problems" role="status"><strong>Not everything could be read:</strong>
<ul>${m.problems.map((p) => markup`<li>${p}</li>`)}</ul></div>`;
  const watchers =
    m.watchers.length === 0 ? markup`<p class="muted">No watcher is enabled.</p>` : overview(m);
  const disabled =
    m.disabled.length === 0 ? '' : markup`<p class="muted">Disabled: ${m.disabled.join(', ')}</p>`;
  return markup`<!doctype html>
<html lang="en"><head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="${refreshS}">
<meta name="referrer" content="no-referrer">
<meta name="robots" content="noindex">
<title>iam-watcher status</title>
<style>${raw(STYLE)}</style>
</head><body><main>
<header>
<h1>iam-watcher status</h1>
<p class="meta">As of ${utc(m.atMs)} · served by <span class="mono">${m.self.instance}</span> · version ${m.self.version} · backend ${m.backend} · refreshes every ${refreshS} s · times in UTC</p>
</header>
${problems}
<h2>Watchers</h2>
${watchers}
${disabled}
<div class="cards">${m.watchers.map((w) => card(w, m.atMs))}</div>
<h2>Replicas</h2>
${replicas(m)}
<footer>Read-only: changes to watchers go through the iam-watcher command line.</footer>
</main></body></html>
`.text;
}
