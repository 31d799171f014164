/**
 * Imports every watcher for its side effect: registering itself in the default registry.
 * Adding a watcher is one folder plus one line here.
 */
import './clean/watcher.js';
import './cleansecret/watcher.js';
import './task/watcher.js';
import './userinit/watcher.js';
