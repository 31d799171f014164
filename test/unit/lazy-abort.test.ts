import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LazyAbort } from '../../internal/pkg/abort/lazy-abort.js';

test('LazyAbort: callbacks hear the abort once; a removed one does not; a late signal is already aborted', () => {
  const a = new LazyAbort();
  const heard: Array<[string, unknown]> = [];
  a.onAbort((r) => heard.push(['kept', r]));
  const remove = a.onAbort((r) => heard.push(['removed', r]));
  remove();
  assert.equal(a.aborted, false);
  assert.equal(a.abort('first'), true);
  assert.equal(a.abort('second'), false, 'a second abort changes nothing');
  assert.deepEqual(heard, [['kept', 'first']]);
  assert.equal(a.signal.aborted, true, 'a signal made after the abort is aborted');
  assert.equal(a.signal.reason, 'first');
  a.onAbort((r) => heard.push(['late', r]));
  assert.deepEqual(heard.at(-1), ['late', 'first'], 'a callback added after the abort runs at once');
});

test('LazyAbort: a signal asked for before the abort fires with its reason', () => {
  const a = new LazyAbort();
  const signal = a.signal;
  assert.equal(signal.aborted, false);
  a.abort(new Error('lost'));
  assert.equal(signal.aborted, true);
  assert.equal((signal.reason as Error).message, 'lost');
});
