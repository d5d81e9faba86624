"""A worker script whose top level fails: jobs declared with it fail with WorkerCrashed."""

from brython_jobs.worker import handler

import no_such_module_for_the_worker_tests  # noqa: F401  (raises ModuleNotFoundError)


@handler("w_broken")
def broken(job):
    return "never runs"
