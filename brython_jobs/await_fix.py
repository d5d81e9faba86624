"""Adapter for a Brython 3.15 bug: a coroutine resumed after ``await`` can run in another
coroutine's frame. ``install()`` fixes it for the whole page (or worker); the package
calls it on import.

The bug. Brython keeps the running function's frame in ``__BRYTHON__.frame_obj``. For
``await <promise>``, its ``$B.promise`` chains a callback that restores the awaiter's
frame, and the awaiter resumes one microtask later, on the promise *that callback
returns*. Another microtask can run in between. When two awaits settle in the same
microtask checkpoint (two IndexedDB events in one task, a coroutine failing while
another resumes), the first awaiter resumes with the second one's frame. Its code keeps
its own JS variables, but what Brython looks up through the frame breaks:

- a local that the compiler cannot prove bound (assigned inside ``try`` or a branch, read
  after it) is read from the *other* frame: ``UnboundLocalError: cannot access local
  variable 'epoch'``, or silently the other coroutine's value of the same name;
- a bare ``raise`` in ``except`` finds no exception: ``RuntimeError: No active
  exception to reraise``.

This is what broke the leader election in WebKit and Firefox (README, Browsers), and it
is reproduced without the package by ``tests/pages/await_frames.html``.

The fix replaces ``$B.promise`` by one that returns a promise on which it has *already*
registered the frame restore. A promise runs its reactions in the order they were
registered, queued together when it settles, so the restore runs immediately before the
awaiter resumes, with nothing in between. It is installed only over the exact function
it was written against (recognised by its source); any other Brython is left alone and
``install()`` says so.
"""

from .jsenv import scope

# The body of a JS function: returns "installed", "already installed" or "not needed".
_SOURCE = r"""
var $B = __BRYTHON__, old = $B.promise;
if (old.bjAwaitFix) { return "already installed"; }
if (String(old).indexOf("obj.frame_obj=$B.frame_obj") < 0) { return "not needed"; }
var coroutine = $B.coroutine, send = coroutine.tp_funcs.send;
function resumeIn(p, frameObj) {
  // Registered before the awaiter's own reaction: it runs right before it resumes.
  var restore = function () { $B.frame_obj = frameObj; };
  p.then(restore, restore);
  return p;
}
var fixed = function (obj) {
  var frameObj = $B.frame_obj;
  if ($B.exact_type(obj, coroutine)) {
    obj.$frame_obj = frameObj;
    return resumeIn(send(obj), frameObj);
  }
  if (typeof obj != "function" && obj !== null && obj !== undefined &&
      (obj instanceof Promise || typeof obj.then == "function")) {
    return resumeIn(new Promise(function (resolve, reject) {
      obj.then(function (x) {
        $B.frame_obj = frameObj;
        try { resolve($B.jsobj2pyobj(x)); } catch (err) { reject($B.exception(err)); }
      }, function (err) {
        $B.frame_obj = frameObj;
        reject($B.exception(err));
      });
    }), frameObj);
  }
  return old(obj);
};
fixed.bjAwaitFix = true;
$B.promise = fixed;
return "installed";
"""

state = None  # what install() found: "installed", "already installed" or "not needed"


def install():
    """Install the fix once per page or worker; returns what it found (see ``state``)."""
    global state
    if state is None:
        state = str(scope.Function.new(_SOURCE)())
    return state
