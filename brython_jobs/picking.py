"""Which job runs next: the pick order within a queue, and the plan for one dispatch pass.

Pure functions. The stores walk their pending jobs in ``pick_key`` order (the IndexedDB
store through its ``pick`` index, whose key path mirrors it), and the dispatcher asks
``plan`` which queues to try now and when to wake next.
"""


def pick_key(rec):
    """Pick order within a queue: highest priority, earliest due, first enqueued."""
    return (rec["npri"], rec["run_at"], rec["seq"])


def plan(heads, now, running, paused, limit, next_expiry=None):
    """Plan one dispatch pass.

    ``heads``: {queue: earliest due time of its pending jobs}; ``running``: queues with a
    job in progress; ``paused``: paused queues; ``limit``: how many queues may run at once.
    Returns ``(queues, wake_at)``: the idle queues with a due job, earliest due first, at
    most as many as free slots; and the instant the dispatcher must look again by itself
    (the next due time of an idle queue, or the next expiry), or None when only an event
    (enqueue, a job finishing, resume) can make work appear.
    """
    due = []
    wake_at = None
    for queue in heads:
        if queue in running or queue in paused:
            continue
        at = heads[queue]
        if at <= now:
            due.append((at, queue))
        elif wake_at is None or at < wake_at:
            wake_at = at
    # By due time, then name (as text: a malformed record may name its queue otherwise)
    due.sort(key=lambda item: (item[0], str(item[1])))
    free = limit - len(running)
    queues = []
    for item in due:
        if len(queues) >= free:
            break
        queues.append(item[1])
    if next_expiry is not None:
        # The expiry sweep must also run for jobs stuck behind a running or paused queue.
        # A job expires strictly after its limit, so look just past it.
        at = next_expiry + 0.001
        if wake_at is None or at < wake_at:
            wake_at = at
    return queues, wake_at
