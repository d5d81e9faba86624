"""Meta keys of the store, the leader fence and the leader record's operations (mixed
into ``Engine``), shared by the engine's modules. Pure.

``leader``               {"epoch", "tab", "beat"}: the leader epoch and its last heartbeat
``paused``               [queue names]
``seq``                  the enqueue counter
``schedule:<key>``       a recurring schedule (recurring.py)
``throttle:<key>``       {"start", "interval"}: the last start of a throttled key (bursts.py)
"""

from .errors import Fenced

LEADER = "leader"
PAUSED = "paused"
SEQ = "seq"
SCHEDULE = "schedule:"
THROTTLE = "throttle:"


def check_leader(tx, epoch):
    """Raise ``Fenced`` unless leader ``epoch`` is still the stored one (``tx`` must have
    read ``LEADER``). Called inside the transaction that writes, never before it."""
    leader = tx.metas.get(LEADER)
    if leader is None or leader.get("epoch") != epoch:
        raise Fenced(f"leader epoch {epoch} was replaced by "
                     f"{None if leader is None else leader.get('epoch')}")


def next_seq(tx):
    """The next enqueue number (``tx`` must have read ``SEQ``)."""
    seq = (tx.metas.get(SEQ) or 0) + 1
    tx.put_meta(SEQ, seq)
    return seq


def run_key(schedule_key):
    """The job key that a recurring schedule's pending run carries."""
    return "every:" + schedule_key


class LeaderOps:
    """The leader record's operations, mixed into ``Engine`` (needs ``store``,
    ``clock`` and ``config``): each is one transaction over ``meta["leader"]``."""

    async def become_leader(self, tab_id, live=None, hidden=False):
        """Start a new leader epoch for this tab; returns the epoch. ``live()``, checked
        inside the transaction, says whether the tab still holds the lock: if not,
        nothing is written and None is returned."""
        now = self.clock()

        def fn(tx):
            if live is not None and not live():
                return None
            old = tx.metas.get(LEADER) or {}
            epoch = (old.get("epoch") or 0) + 1
            tx.put_meta(LEADER, {"epoch": epoch, "tab": tab_id, "beat": now, "since": now,
                                 "hidden": hidden})
            return epoch
        return await self.store.atomic(fn, meta_keys=(LEADER,))

    async def heartbeat(self, epoch, hidden=False):
        """Record that the leader of ``epoch`` is alive (``hidden``: its page is hidden,
        so its timers may be throttled); raises ``Fenced`` if replaced."""
        now = self.clock()

        def fn(tx):
            check_leader(tx, epoch)
            leader = dict(tx.metas[LEADER])
            leader["beat"] = now
            leader["hidden"] = hidden
            tx.put_meta(LEADER, leader)
        await self.store.atomic(fn, meta_keys=(LEADER,))

    async def resign(self, epoch):
        """Mark the epoch as ended so no follower waits for its silence."""
        def fn(tx):
            leader = tx.metas.get(LEADER)
            if leader is not None and leader.get("epoch") == epoch:
                leader = dict(leader)
                leader["beat"] = None
                tx.put_meta(LEADER, leader)
        await self.store.atomic(fn, meta_keys=(LEADER,))

    async def leader_info(self):
        """The stored ``{"epoch", "tab", "beat"}`` of the leader, or None."""
        return await self.store.meta_get(LEADER)

    async def claim_takeover(self, epoch, beat, tab_id):
        """A follower that saw the leader of ``epoch`` silent at heartbeat ``beat`` claims
        the right to steal its lock: True only for the first such claim, while the stored
        heartbeat is still that one. The claim changes the heartbeat, so every other
        follower starts a new observation window instead of stealing too (two followers
        stealing one after the other would replace the first thief as well)."""
        now = self.clock()

        def fn(tx):
            leader = tx.metas.get(LEADER)
            if leader is None or leader.get("epoch") != epoch or leader.get("beat") != beat:
                return False
            leader = dict(leader)
            leader["beat"] = now
            leader["taking_over"] = tab_id
            tx.put_meta(LEADER, leader)
            return True
        return await self.store.atomic(fn, meta_keys=(LEADER,))

    def leader_is_silent(self, info, now):
        """True when a follower may take over: no leader ever, a resigned one, or one whose
        last heartbeat is older than ``leader_silence``."""
        if info is None or info.get("beat") is None:
            return True
        return now - info["beat"] > self.config.leader_silence
