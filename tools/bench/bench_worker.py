"""Worker script of the worker figure: the same no-op handler the page runs."""

from brython_jobs.worker import handler


@handler("wnoop")
def wnoop(job):
    return None
