/**
 * The status page as HTML: one document, its stylesheet inline (allowed by hash), no script, no
 * form, no link off the page, refreshed by `<meta http-equiv="refresh">`. Every value goes through
 * the {@link html} tag, which escapes it.
 */
import { html, raw, type Html } from './html.js';
import { clockTime, relative, span, utc } from './format.js';
import { HEARTBEAT_MS, type SeenInstance } from './instances.js';
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
  return html`<span class="badge ${cls}">${text}</span>`;
}

/** `(in 4.0 s)`, kept on one line. */
function rel(ms: number, nowMs: number, paren = true): Html {
  const text = relative(ms, nowMs);
  return html`<span class="muted rel">${paren ? `(${text})` : text}</span>`;
}

function when(ms: number, nowMs: number): Html {
  return html`<span class="mono">${utc(ms)}</span> ${rel(ms, nowMs)}`;
}

/**
 * A table cell; its content sits in one element so that, stacked on a phone, the cell is exactly
 * its label (`data-label`) beside its value.
 */
function cell(label: string, content: Html | string, cls = ''): Html {
  return html`<td data-label="${label}" ${cls ? html` class="${cls}"` : ''}><div>${content}</div></td>`;
}

function stateBadges(w: PageWatcher): Html[] {
  const out: Html[] = [];
  if (w.paused) out.push(badge('warn', 'paused'));
  if (w.running) out.push(badge('run', 'running'));
  const last = w.runs[0];
  out.push(last ? badge(resultClass(last.result), last.result) : badge('off', 'never ran'));
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
    const last = w.runs[0];
    const next = w.next[0];
    return html`<tr>
      ${cell('Watcher', html`<a href="#w-${w.name}">${w.name}</a>`)} ${cell('State', html`${stateBadges(w)}`)}
      ${cell('Last run', last ? html`${clockTime(last.slotMs)} ${rel(last.slotMs, m.atMs, false)}` : '-')}
      ${cell('Next slot', next === undefined ? '-' : html`${clockTime(next)} ${rel(next, m.atMs, false)}`)}
    </tr>`;
  });
  return html`<div class="panel">
    <table class="stack overview">
      <thead>
        <tr>
          <th>Watcher</th>
          <th>State</th>
          <th>Last run</th>
          <th>Next slot</th>
        </tr>
      </thead>
      <tbody>
        ${rows}
      </tbody>
    </table>
  </div>`;
}

function runsTable(w: PageWatcher): Html {
  if (w.runs.length === 0) return html`<p class="muted">No run recorded yet.</p>`;
  const rows = w.runs.map((r) => {
    const c = counts(r.counts);
    return html`<tr class="entry">
        ${cell('Slot', html`<span class="mono">${utc(r.slotMs)}</span>${r.manual ? html` <span class="muted">manual</span>` : ''}`)}
        ${cell('Result', badge(resultClass(r.result), r.result))} ${cell('Duration', span(r.durationMs))}
        ${cell('Instance', html`<span class="mono">${r.instance}</span>`)}
      </tr>
      ${
        c
          ? html`<tr class="detail">
              <td colspan="4" data-label="Counts"><div class="mono muted">${c}</div></td>
            </tr>`
          : ''
      }${
        r.error
          ? html`<tr class="detail">
              <td colspan="4" data-label="Error" class="error"><div>${r.error}</div></td>
            </tr>`
          : ''
      }`;
  });
  return html`<p class="muted">${w.fromHistory ? 'Recent runs, newest first' : 'Last run'}</p>
    <table class="stack runs">
      <thead>
        <tr>
          <th>Slot</th>
          <th>Result</th>
          <th>Duration</th>
          <th>Instance</th>
        </tr>
      </thead>
      <tbody>
        ${rows}
      </tbody>
    </table>`;
}

function pausedText(w: PageWatcher, nowMs: number): Html {
  const p = w.paused;
  if (!p) return html`no`;
  return html`<strong>yes</strong>${p.note ? html` — “${p.note}”` : ''}${
      p.sinceMs === undefined
        ? ''
        : html`<br /><span class="muted">since ${utc(p.sinceMs)}</span> ${rel(p.sinceMs, nowMs)}`
    }${p.by ? html`<br /><span class="muted">by ${p.by}</span>` : ''}`;
}

function card(w: PageWatcher, nowMs: number): Html {
  const next =
    w.next.length === 0
      ? html`<span class="muted"
          >${w.mode === 'fixed-delay' ? 'one interval after the current run ends' : 'none'}</span
        >`
      : html`<ul class="slots">
          ${w.next.map((t) => html`<li>${when(t, nowMs)}</li>`)}
        </ul>`;
  return html`<section class="card" id="w-${w.name}">
    <header>
      <h3>${w.name}</h3>
      ${stateBadges(w)}
    </header>
    <dl>
      <dt>Schedule</dt>
      <dd><code>${w.schedule}</code></dd>
      <dt>Mode</dt>
      <dd>${w.mode}, overlap ${w.overlap}</dd>
      ${
        w.mode === 'cron'
          ? html`<dt>Time zone</dt>
              <dd>${w.timeZone ?? 'the daemon’s local zone'}</dd>`
          : ''
      }
      <dt>Paused</dt>
      <dd>${pausedText(w, nowMs)}</dd>
      <dt>Running now</dt>
      <dd>
        ${w.running ? html`<span class="mono">${w.running.instance}</span> <span class="muted">since ${utc(w.running.sinceMs)}</span> ${rel(w.running.sinceMs, nowMs)}` : 'no'}
      </dd>
      <dt>Next slots</dt>
      <dd>${next}</dd>
    </dl>
    ${runsTable(w)}
  </section>`;
}

function replicaRow(r: SeenInstance, m: PageModel): Html {
  const age = m.atMs - r.lastSeenMs;
  const self = r.instance === m.self.instance && r.startedMs === m.self.startedMs;
  return html`<tr>
    ${cell('Instance', html`<span class="mono">${r.instance}</span>${self ? html` <span class="muted">(this page)</span>` : ''}`)}
    ${cell('State', age <= LIVE_MS ? badge('ok', 'live') : badge('warn', `not seen for ${span(age)}`))}
    ${cell('Host', html`<span class="mono">${r.host}</span>`)} ${cell('Version', r.version)}
    ${cell('Started', html`<span class="mono">${utc(r.startedMs)}</span>`)}
    ${cell('Last seen', relative(r.lastSeenMs, m.atMs))}
  </tr>`;
}

function replicas(m: PageModel): Html {
  if (m.replicas === undefined) return html`<p class="muted">The replica list could not be read.</p>`;
  if (m.replicas.length === 0) return html`<p class="muted">No replica has announced itself yet.</p>`;
  return html`<div class="panel">
      <table class="stack replicas">
        <thead>
          <tr>
            <th>Instance</th>
            <th>State</th>
            <th>Host</th>
            <th>Version</th>
            <th>Started</th>
            <th>Last seen</th>
          </tr>
        </thead>
        <tbody>
          ${m.replicas.map((r) => replicaRow(r, m))}
        </tbody>
      </table>
    </div>
    <p class="muted">
      ${m.backend === 'local' ? 'lock.backend is local: this daemon works alone.' : `Replicas announce themselves every ${span(HEARTBEAT_MS)}; one that stopped without saying so stays listed for 10 minutes.`}
    </p>`;
}

/** The whole document. */
export function renderPage(m: PageModel): string {
  const refreshS = Math.max(1, Math.round(m.refreshMs / 1000));
  const problems =
    m.problems.length === 0
      ? ''
      : html`<div class="problems" role="status">
          <strong>Not everything could be read:</strong>
          <ul>
            ${m.problems.map((p) => html`<li>${p}</li>`)}
          </ul>
        </div>`;
  const doc = html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta http-equiv="refresh" content="${refreshS}" />
        <meta name="referrer" content="no-referrer" />
        <meta name="robots" content="noindex" />
        <title>iam-watcher status</title>
        <style>
          ${raw(STYLE)}
        </style>
      </head>
      <body>
        <main>
          <header>
            <h1>iam-watcher status</h1>
            <p class="meta">
              As of ${utc(m.atMs)} · served by <span class="mono">${m.self.instance}</span> · version
              ${m.self.version} · backend ${m.backend} · refreshes every ${refreshS} s · times in UTC
            </p>
          </header>
          ${problems}
          <h2>Watchers</h2>
          ${m.watchers.length === 0 ? html`<p class="muted">No watcher is enabled.</p>` : overview(m)}
          ${m.disabled.length === 0 ? '' : html`<p class="muted">Disabled: ${m.disabled.join(', ')}</p>`}
          <div class="cards">${m.watchers.map((w) => card(w, m.atMs))}</div>
          <h2>Replicas</h2>
          ${replicas(m)}
          <footer>Read-only: changes to watchers go through the iam-watcher command line.</footer>
        </main>
      </body>
    </html> `;
  return doc.text;
}
