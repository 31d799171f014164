/**
 * The status page's one stylesheet, sent inline and allowed by its hash in the Content-Security-Policy
 * (no `unsafe-inline`, no style attributes anywhere on the page). Narrow screens get one column and
 * tables whose rows stack as label/value pairs, so nothing scrolls sideways on a phone.
 */
import { createHash } from 'node:crypto';

export const STYLE = `
:root{color-scheme:light dark;--bg:#f6f7f9;--card:#fff;--fg:#1c2430;--muted:#5b6675;--line:#dde2e8;
--ok:#17663a;--ok-bg:#e3f4ea;--bad:#a3211b;--bad-bg:#fbe5e3;--warn:#7a5200;--warn-bg:#fdf1d6;
--run:#1f4fa8;--run-bg:#e2ebfb;--off:#5b6675;--off-bg:#eceff3}
@media (prefers-color-scheme:dark){:root{--bg:#12161c;--card:#1b2129;--fg:#e4e8ee;--muted:#9aa5b3;
--line:#2e3642;--ok:#7fd8a2;--ok-bg:#173826;--bad:#ff9c94;--bad-bg:#47201d;--warn:#f3c86b;
--warn-bg:#3f3113;--run:#9dbcff;--run-bg:#1d2d4d;--off:#aab4c0;--off-bg:#2a313b}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);
font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","PingFang SC","Microsoft YaHei",sans-serif}
main{max-width:78rem;margin:0 auto;padding:1rem}
h1{font-size:1.35rem;margin:0 0 .25rem}
h2{font-size:1.1rem;margin:1.5rem 0 .5rem}
h3{font-size:1rem;margin:0;overflow-wrap:anywhere}
p{margin:.25rem 0}
.meta,.muted,footer{color:var(--muted);font-size:.87rem}
footer{margin:2rem 0 1rem}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.9em;overflow-wrap:anywhere}
.problems{background:var(--warn-bg);color:var(--warn);border:1px solid var(--line);border-radius:.5rem;
padding:.5rem .75rem;margin:1rem 0}
.problems ul{margin:.25rem 0;padding-left:1.25rem}
.cards{display:grid;gap:1rem;grid-template-columns:repeat(auto-fill,minmax(min(100%,25rem),1fr))}
.card{background:var(--card);border:1px solid var(--line);border-radius:.6rem;padding:.75rem 1rem;min-width:0}
.card header{display:flex;flex-wrap:wrap;align-items:center;gap:.4rem;margin-bottom:.5rem}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem .75rem;margin:0 0 .5rem}
dt{color:var(--muted)}
dd{margin:0;min-width:0;overflow-wrap:anywhere}
table{width:100%;border-collapse:collapse;font-size:.9rem}
.panel{background:var(--card);border:1px solid var(--line);border-radius:.6rem;padding:.25rem .75rem}
th,td{text-align:left;padding:.3rem .5rem .3rem 0;border-bottom:1px solid var(--line);vertical-align:top;
overflow-wrap:anywhere}
tr:last-child td{border-bottom:0}
th{color:var(--muted);font-weight:600;white-space:nowrap;overflow-wrap:normal}
table.runs td{border-bottom:0}
table.runs tr.entry:not(:first-child) td{border-top:1px solid var(--line)}
tr.detail td{padding-top:0;font-size:.85rem}
.rel{white-space:nowrap}
td.error{color:var(--bad);font-size:.85rem}
.badge{display:inline-block;border-radius:999px;padding:0 .55rem;font-size:.8rem;font-weight:600;
line-height:1.6;white-space:nowrap}
.badge+.badge{margin-left:.25rem}
.ok{color:var(--ok);background:var(--ok-bg)}
.bad{color:var(--bad);background:var(--bad-bg)}
.warn{color:var(--warn);background:var(--warn-bg)}
.run{color:var(--run);background:var(--run-bg)}
.off{color:var(--off);background:var(--off-bg)}
a{color:var(--run)}
ul.slots{list-style:none;margin:0;padding:0}
@media (max-width:40rem){
main{padding:.6rem}
table.stack thead{display:none}
table.stack tr{display:block;padding:.35rem 0;border-bottom:1px solid var(--line)}
table.stack tr:last-child,table.runs tr{border-bottom:0}
table.runs tr.entry:not(:first-child){border-top:1px solid var(--line)}
table.runs tr.entry:not(:first-child) td{border-top:0}
table.stack td{display:grid;grid-template-columns:6.5rem minmax(0,1fr);gap:.5rem;border:0;padding:.1rem 0}
table.stack td::before{content:attr(data-label);color:var(--muted)}
}
`.trim();

/** The CSP source that allows exactly {@link STYLE}. */
export const STYLE_HASH = `'sha256-${createHash('sha256').update(STYLE).digest('base64')}'`;

/** The page's Content-Security-Policy: nothing loads, nothing runs, only the one stylesheet applies. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  `style-src ${STYLE_HASH}`,
  "img-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');
