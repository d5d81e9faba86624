"""Page cost: the time from navigation to ``await jobs.start()`` resolved."""

from browser import window, aio

window.benchScriptMs = window.performance.now()  # Brython is running page code
from brython_jobs import JobQueue  # noqa: E402

window.benchImportMs = window.performance.now()

jobs = JobQueue("bench-start")


@jobs.handler("noop")
def noop(job):
    return None


async def main():
    try:
        await jobs.start()
        window.benchStartMs = window.performance.now()
    except Exception as exc:
        window.benchFatal = f"{type(exc).__name__}: {exc}"

aio.run(main())
