"""Messages between the tabs (and workers) of one queue over a BroadcastChannel.

Every message is one envelope: ``{"v": 1, "type": str, "from": tab id, "data": ...}``.
Types:
``wake``   something changed that the leader should look at (no data)
``event``  a job event for ``jobs.on`` callbacks: ``{"event": name, "job": record}``
``paused`` the paused queue names changed: ``{"queues": [...]}``

Malformed messages are reported on the console and ignored, never fatal. A channel does
not deliver to its own sender, so the sending tab handles its own events directly.
"""

from .jsenv import scope, to_js, to_py, warn, report

VERSION = 1
TYPES = ("wake", "event", "paused")


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
    if message["type"] == "event":
        data = message.get("data")
        if type(data) is not dict or type(data.get("event")) is not str \
                or type(data.get("job")) is not dict:
            return None, "malformed event"
    return message, None


class Bus:
    """``post(kind, data)`` to the other tabs; ``on_message(envelope)`` for theirs."""

    def __init__(self, channel_name, sender, on_message):
        self.sender = sender
        self.on_message = on_message
        self.channel = scope.BroadcastChannel.new(channel_name)
        self.channel.onmessage = self._receive

    def _receive(self, ev):
        try:
            message, problem = parse(to_py(ev.data))
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
        self.channel.postMessage(to_js(envelope(kind, self.sender, data)))

    def close(self):
        self.channel.close()
