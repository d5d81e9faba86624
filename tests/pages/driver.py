"""What every test page shares: the ``bjCall`` driver that Selenium calls, the event
recorder and the start-up flags (``bjReady``/``bjError``).

``bjCall(method, args_json, kwargs_json, done)`` calls ``jobs.<method>(*args, **kwargs)``
(or ``page.<name>`` for the page's own helpers), awaits it and calls back ``done`` with
JSON ``{"ok": value}`` or ``{"error": {"type": ..., "message": ..., "where": [...]}}``.
Every event of the queue is appended to ``window.bjEvents`` as JSON.
"""

from browser import window, aio
import javascript

from brython_jobs import Job
from brython_jobs.jsenv import frames

EVENTS = ("enqueued", "started", "progress", "completed", "failed", "cancelled",
          "retrying", "leader", "closed")


def decode(value):
    """JSON from the driver -> Python; ``{"__set__": [...]}`` and ``{"__tuple__": [...]}``
    make values JSON cannot carry, to test that they are refused."""
    if type(value) is dict:
        if list(value) == ["__set__"]:
            return set(value["__set__"])
        if list(value) == ["__tuple__"]:
            return tuple(value["__tuple__"])
        out = {}
        for k in value:
            out[k] = decode(value[k])
        return out
    if type(value) is list:
        out = []
        for item in value:
            out.append(decode(item))
        return out
    return value


def encode(value):
    if isinstance(value, Job):
        return value.to_dict()
    if type(value) in (list, tuple):
        out = []
        for item in value:
            out.append(encode(item))
        return out
    if type(value) in (set, frozenset):
        return sorted(value)
    return value


def install(jobs, page):
    """Expose ``bjCall`` for ``jobs`` and the ``page`` helpers, record every event, then
    start the queue (unless ``?start=0``) and set ``bjReady`` (or ``bjError``)."""
    def bj_call(method, args_json, kwargs_json, done):
        async def run():
            try:
                args = decode(javascript.JSON.parse(args_json))
                kwargs = decode(javascript.JSON.parse(kwargs_json))
                fn = page[method[5:]] if method.startswith("page.") else getattr(jobs, method)
                result = fn(*args, **kwargs)
                if aio.iscoroutine(result) or hasattr(result, "then"):
                    result = await result
                done(javascript.JSON.stringify({"ok": encode(result)}))
            except Exception as exc:
                done(javascript.JSON.stringify(
                    {"error": {"type": type(exc).__name__, "message": str(exc),
                               "where": frames(exc)}}))
        aio.run(run())
    window.bjCall = bj_call

    def recorder(event):
        def record_event(value):
            data = value.to_dict() if isinstance(value, Job) else value
            window.bjEvents.push(javascript.JSON.stringify(
                {"event": event, "data": data, "at": window.Date.now() / 1000}))
        return record_event
    for event in EVENTS:
        jobs.on(event, recorder(event))

    async def main():
        try:
            params = window.URLSearchParams.new(window.location.search)
            if params.get("start") != "0":
                await jobs.start()
            window.bjReady = True
        except Exception as exc:
            window.bjError = f"{type(exc).__name__}: {exc}"
    aio.run(main())
