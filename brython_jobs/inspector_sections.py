"""The inspector's sections, rendered from what one refresh read (inspector.py calls
them with the ``Inspector`` as ``insp``): the leader line, the per-queue counts, the job
rows and pager, one job's detail, the schedules and the pending bursts.

As everywhere in the inspector, data is only ever set as text (inspector_view.py).
"""

from .admin import duration
from .inspector_view import (
    add, button, clear, el, json_text, progress_bar, time_cell, time_text, value_block,
)

STATUSES = ("pending", "processing", "completed", "failed", "cancelled")
FINISHED = ("completed", "failed", "cancelled")


def render_leader(insp, info, now):
    if info["state"] == "none":
        text = "Leader: none elected yet"
    else:
        text = f"Leader: tab {(info['tab'] or '?')[:8]} · epoch {info['epoch']}"
        if info["since"] is not None:
            text += f" · since {time_text(info['since'], now)}"
        if info["state"] == "resigned":
            text += " · resigned"
        else:
            text += f" · heartbeat {info['heartbeat_age']:.1f} s ago"
            if info.get("hidden"):
                text += " (its page is hidden)"
            if info["state"] == "silent":
                text += " (silent: about to be replaced)"
    text += f" · this tab ({info['this_tab'][:8]}): {info['role']}"
    insp.part("leader").textContent = text


def render_counts(insp, counts, queues, paused):
    table = el("table")
    head = add(el("tr"), el("th", "queue"))
    for status in STATUSES:
        add(head, el("th", status, "num"))
    add(table, add(head, el("th", "")))
    names = sorted(set(list(queues) + list(paused)))
    for q in names:
        per = queues.get(q) or {}
        row = el("tr", None, None, {"data-queue": q})
        cell = add(el("td"), button(q, lambda q=q: insp.set_filter("queue", q),
                                    focus="q:" + q, label="show jobs of queue " + q))
        if q in paused:
            add(cell, " ", el("span", "paused", "paused"))
        add(row, cell)
        for status in STATUSES:
            n = per.get(status, 0)
            add(row, el("td", n, "num st-" + status if n else "num muted"))
        actions = el("td")
        if q in paused:
            add(actions, button("Resume", lambda q=q: insp.act(
                "resume " + q, lambda: insp.jobs.resume(q)), focus="resume:" + q))
        else:
            add(actions, button("Pause", lambda q=q: insp.act(
                "pause " + q, lambda: insp.jobs.pause(q)), focus="pause:" + q))
        if per.get("failed"):
            add(actions, button("Redrive failed", lambda q=q: insp.act(
                "redrive failed of " + q, lambda: insp.jobs.redrive_failed(q),
                lambda n: f"redrove {n} failed job(s) of {q}"), focus="redrive-all:" + q))
        add(table, add(row, actions))
    total = add(el("tr"), el("th", "all queues"))
    for status in STATUSES:
        add(total, el("th", counts.get(status, 0), "num"))
    add(table, add(total, el("th", "")))
    add(clear(insp.part("counts")), table)
    insp.sync_filters(names)


def actions(insp, job, now, where):
    """The buttons that apply to ``job`` as it is now."""
    out = []
    jid = job.id
    if job.status in ("pending", "processing"):
        out.append(button("Cancel", lambda: insp.act(
            "cancel", lambda: insp.jobs.cancel(jid)), focus=f"{where}cancel:{jid}"))
    if job.status == "pending" and job.run_at is not None and job.run_at > now:
        out.append(button("Run now", lambda: insp.act(
            "run now", lambda: insp.jobs.promote(jid)), focus=f"{where}promote:{jid}"))
    if job.status in ("failed", "cancelled"):
        out.append(button("Redrive", lambda: insp.act(
            "redrive", lambda: insp.jobs.redrive(jid)), focus=f"{where}redrive:{jid}"))
    if job.status in FINISHED:
        out.append(button("Delete", lambda: insp.act(
            "delete", lambda: insp.jobs.delete(jid)), focus=f"{where}delete:{jid}"))
    return out


def titled_table(titles):
    """A table whose first row holds ``titles`` as column headings."""
    head = el("tr")
    for title in titles:
        add(head, el("th", title))
    return add(el("table"), head)


def render_rows(insp, rows, now):
    table = titled_table(("job", "name", "queue", "status", "attempts", "created",
                          "due / ended", ""))
    for job in rows:
        row = el("tr", None, "bji-job", {"data-id": job.id, "data-status": job.status,
                                         "data-name": job.name})
        add(row, add(el("td"), button(job.id[:13], lambda j=job.id: insp.select(j),
                                      focus="open:" + job.id,
                                      label="show job " + job.id)))
        add(row, el("td", job.name), el("td", job.queue),
            el("td", job.status, "status st-" + str(job.status)),
            el("td", f"{job.attempts} of {job.max_attempts}", "num"),
            time_cell(job.created_at, now),
            time_cell(job.finished_at if job.status in FINISHED else job.run_at, now))
        add(table, add(row, add(el("td"), *actions(insp, job, now, "row:"))))
    if not rows:
        add(table, add(el("tr"), el("td", "no jobs match", "muted", {"colspan": 8})))
    add(clear(insp.part("jobs")), table)
    pager = clear(insp.part("pager"))
    if insp.text:
        add(pager, el("span", f"search results for {insp.text!r} (id or key prefix)",
                      "muted"))
        return
    if insp.newer:
        add(pager, button("‹ Newer", insp.show_newer, focus="newer"))
    if insp.next is not None:
        add(pager, button("Older ›", insp.show_older, focus="older"))
    add(pager, el("span", f" page {len(insp.newer) + 1}", "muted"))


def field(dl, name, value):
    """A <dt>/<dd> pair; ``value`` is text or an element."""
    add(dl, el("dt", name), add(el("dd"), value))


def block(insp, job, name, value):
    """A stored value as JSON text, cut at the inspector's ``text_limit``."""
    key = f"{job.id}:{name}"
    return value_block(json_text(value), insp.text_limit, key in insp.expanded,
                       lambda: insp.toggle(key), "show:" + key)


def render_detail(insp, job, now):
    box = clear(insp.part("detail"))
    if insp.selected is None:
        box.removeAttribute("class")
        return
    box.setAttribute("class", "bji-detail detail")
    head = add(el("div", None, "toolbar"), el("strong", "Job "),
               el("code", insp.selected),
               button("Close", lambda: insp.select(None), focus="close-detail"))
    add(box, head)
    if job is None:
        add(box, el("p", "This job no longer exists.", "muted"))
        return
    dl = el("dl")
    field(dl, "name", job.name)
    field(dl, "queue", job.queue)
    field(dl, "status", el("span", job.status, "st-" + str(job.status)))
    field(dl, "attempts", f"{job.attempts} of {job.max_attempts}")
    field(dl, "priority", str(job.priority))
    field(dl, "key", job.key if job.key is not None else "—")
    prog = el("span")
    if type(job.progress) is dict:
        add(prog, progress_bar(job.progress.get("fraction") or 0),
            f" {int((job.progress.get('fraction') or 0) * 100)}%",
            f" {job.progress.get('message') or ''}")
    else:
        add(prog, "—")
    field(dl, "progress", prog)
    for label, t in (("created", job.created_at), ("due", job.run_at),
                     ("started", job.started_at), ("finished", job.finished_at),
                     ("expires", job.expires_at)):
        field(dl, label, time_text(t, now))
    if type(job.error) is dict:
        field(dl, "error", add(el("span"), el("code", job.error.get("code")), " ",
                                     job.error.get("message") or ""))
    add(box, dl)
    add(box, el("h3", "payload"), block(insp, job, "payload", job.payload))
    add(box, el("h3", "result"), block(insp, job, "result", job.result))
    if job.error:
        add(box, el("h3", "error"), block(insp, job, "error", job.error))
    add(box, add(el("div", None, "toolbar"), *actions(insp, job, now, "detail:")))


def render_schedules(insp, schedules, now):
    box = clear(insp.part("schedules"))
    if not schedules:
        add(box, el("p", "none", "muted"))
        return
    table = titled_table(("key", "name", "queue", "every", "next due", "last run", ""))
    for s in schedules:
        row = el("tr", None, "bji-schedule", {"data-key": s["key"]})
        last = s["last_run"]
        last_cell = el("td", "—" if last is None else last["status"] + " ")
        if last is not None:
            add(last_cell, el("span", time_text(last["finished_at"], now), "muted"))
        key = s["key"]
        add(row, el("td", key), el("td", s["name"]), el("td", s["queue"]),
            el("td", duration(s["interval"])), time_cell(s["next_due"], now), last_cell,
            add(el("td"), button("Unschedule", lambda k=key: insp.act(
                "unschedule " + k, lambda: insp.jobs.unschedule(k)),
                focus="unschedule:" + key)))
        add(table, row)
    add(box, table)


def render_bursts(insp, bursts, now):
    box = clear(insp.part("bursts"))
    if not bursts:
        add(box, el("p", "none", "muted"))
        return
    table = titled_table(("key", "name", "kind", "first call", "last call", "due", ""))
    for b in bursts:
        row = el("tr", None, "bji-burst", {"data-key": b["key"] or ""})
        add(row, el("td", b["key"] or "—"), el("td", b["name"]), el("td", b["kind"]),
            time_cell(b["first_call"], now), time_cell(b["last_call"], now),
            time_cell(b["due"], now),
            add(el("td"), button("Open", lambda j=b["job_id"]: insp.select(j),
                                 focus="burst:" + b["job_id"])))
        add(table, row)
    add(box, table)
