"""Meta keys of the store and the leader fence, shared by the engine's modules. Pure.

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
