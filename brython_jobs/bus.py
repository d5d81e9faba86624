"""Messages between the tabs (and workers) of one queue over a broadcast channel (pure).

Every message is one versioned envelope: ``{"v": 1, "type": str, "from": tab id,
"data": ...}``. Types:

``wake``   something changed that the leader should look at (no data)
``event``  a job event for ``jobs.on`` callbacks: ``{"event": name, "job": record}``
``events`` several job events, in order: a list of what ``event`` carries
``paused`` the paused queues changed (the receiver re-reads them from the store: a
           message can be lost or reordered, the database is the truth)
``handover`` a visible follower asks the hidden leader of ``{"epoch": n}`` to yield
``ping``   a follower asks the hidden leader of ``{"epoch": n}`` for a sign of life
``pong``   that leader's answer, ``{"epoch": n}``
``visibility`` the leader of ``{"epoch": n, "hidden": bool}`` was hidden or shown

Job events are sent in batches: those posted before the next task (a timer of 0 s:
finishing a job and starting the next, a batch of enqueues, the outcome and the next
claim of a busy queue) go out as one ``events`` message, which halves the messages and
conversions per job on a busy leader. An ``enqueued`` event goes out at the end of the
current task with whatever was batched before it (the leader wakes on it, and events keep
their order).

Malformed messages are reported once as a warning and ignored, never fatal. A channel
does not deliver to its own sender, so the sending tab handles its own events directly.
"""

VERSION = 1
TYPES = ("wake", "event", "events", "paused", "handover", "ping", "pong", "visibility")
EPOCH_TYPES = ("handover", "ping", "pong", "visibility")


def _valid_event(data):
    return type(data) is dict and type(data.get("event")) is str \
        and type(data.get("job")) is dict and type(data["job"].get("id")) is str


def envelope(kind, sender, data=None):
    return {"v": VERSION, "type": kind, "from": sender, "data": data}


def parse(message):
    """``(envelope, None)``, or ``(None, reason)`` when the message is malformed."""
    if type(message) is not dict:
        return None, "not an object"
    if "undecodable" in message and len(message) == 1:
        return None, f"undecodable ({message['undecodable']})"
    if message.get("v") != VERSION:
        return None, f"unknown version {message.get('v')!r}"
    kind = message.get("type")
    if kind not in TYPES:
        return None, f"unknown type {kind!r}"
    if type(message.get("from")) is not str:
        return None, "no sender"
    data = message.get("data")
    if kind == "event" and not _valid_event(data):
        return None, "malformed event"
    if kind == "events":
        if type(data) is not list:
            return None, "malformed events"
        for item in data:
            if not _valid_event(item):
                return None, "malformed event in a batch"
    if kind in EPOCH_TYPES and (type(data) is not dict
                                or type(data.get("epoch")) is not int):
        return None, f"malformed {kind}"
    return message, None


class Bus:
    """``post(kind, data)`` to the other tabs; ``on_message(envelope)`` for theirs."""

    def __init__(self, runtime, channel_name, sender, on_message):
        self._rt = runtime
        self.sender = sender
        self.on_message = on_message
        self._events = None
        self._timer = False    # a flush on the next task is scheduled
        self._soon = False     # a flush at the end of this task is scheduled
        self._channel = runtime.channel(channel_name, self._receive)

    def _receive(self, raw):
        message, problem = parse(raw)
        if message is None:
            self._rt.warn(f"ignored a malformed message on the queue channel: {problem}")
            return
        try:
            self.on_message(message)
        except Exception as exc:
            self._rt.report(f"handling a {message['type']} message", exc)

    def post(self, kind, data=None):
        if self._channel is not None:
            self._channel.post(envelope(kind, self.sender, data))

    def post_event(self, data):
        """Queue a job event; the events posted until the next task go out together,
        an ``enqueued`` one at the end of this task."""
        if self._events is None:
            self._events = []
            if not self._timer:
                self._timer = True
                self._rt.call_later(0, self._timed_flush)
        self._events.append(data)
        if data["event"] == "enqueued" and not self._soon:
            self._soon = True
            self._rt.call_soon(self._flush)

    def _timed_flush(self):
        self._timer = False
        self._flush()

    def _flush(self):
        self._soon = False
        events, self._events = self._events, None
        if not events:
            return
        try:
            if len(events) == 1:
                self.post("event", events[0])
            else:
                self.post("events", events)
        except Exception as exc:
            self._rt.report("posting job events", exc)

    def close(self):
        if self._channel is not None:
            self._flush()
            self._channel.close()
            self._channel = None
