"""Messages between the tabs (and workers) of one queue over a BroadcastChannel.

Every message is one envelope, sent as JSON text:
``{"v": 1, "type": str, "from": tab id, "data": ...}``.
Types:
``wake``   something changed that the leader should look at (no data)
``event``  a job event for ``jobs.on`` callbacks: ``{"event": name, "job": record}``
``events`` several job events, in order: a list of what ``event`` carries
``paused`` the paused queue names changed: ``{"queues": [...]}``

Job events are sent in batches: those posted in one turn of the event loop (finishing a
job and starting the next, say) go out as one ``events`` message, which halves the
messages and conversions per job on a busy leader.

Malformed messages are reported on the console and ignored, never fatal. A channel does
not deliver to its own sender, so the sending tab handles its own events directly.
"""

import javascript

from .jsenv import scope, to_py, warn, report

_py_json = javascript.JSON

VERSION = 1
TYPES = ("wake", "event", "events", "paused")


def _valid_event(data):
    return type(data) is dict and type(data.get("event")) is str \
        and type(data.get("job")) is dict


def envelope(kind, sender, data=None):
    return {"v": VERSION, "type": kind, "from": sender, "data": data}


def parse(message):
    """The envelope as a dict, or None (and the reason) when it is malformed."""
    if type(message) is not dict:
        return None, "not an object"
    if message.get("v") != VERSION:
        return None, f"unknown version {message.get('v')!r}"
    if message.get("type") not in TYPES:
        return None, f"unknown type {message.get('type')!r}"
    if type(message.get("from")) is not str:
        return None, "no sender"
    if message["type"] == "event" and not _valid_event(message.get("data")):
        return None, "malformed event"
    if message["type"] == "events":
        items = message.get("data")
        if type(items) is not list:
            return None, "malformed events"
        for item in items:
            if not _valid_event(item):
                return None, "malformed event in a batch"
    return message, None


class Bus:
    """``post(kind, data)`` to the other tabs; ``on_message(envelope)`` for theirs."""

    def __init__(self, channel_name, sender, on_message):
        self.sender = sender
        self.on_message = on_message
        self._events = None
        self.channel = scope.BroadcastChannel.new(channel_name)
        self.channel.onmessage = self._receive

    def _receive(self, ev):
        try:
            data = ev.data
            # Envelopes travel as JSON text: one serialisation each way, instead of
            # building a JS object to post and reading it back field by field.
            message, problem = parse(_py_json.parse(data) if type(data) is str
                                     else to_py(data))
        except Exception as exc:
            message, problem = None, f"undecodable ({exc})"
        if message is None:
            warn(f"ignored a malformed message on the queue channel: {problem}")
            return
        try:
            self.on_message(message)
        except Exception as exc:
            report(f"handling a {message['type']} message", exc)

    def post(self, kind, data=None):
        self.channel.postMessage(_py_json.stringify(envelope(kind, self.sender, data)))

    def post_event(self, data):
        """Queue a job event; the events of this turn go out together."""
        if self._events is None:
            self._events = []
            scope.queueMicrotask(self._flush)
        self._events.append(data)

    def _flush(self):
        events, self._events = self._events, None
        try:
            if len(events) == 1:
                self.post("event", events[0])
            else:
                self.post("events", events)
        except Exception as exc:
            report("posting job events", exc)

    def close(self):
        self.channel.close()
