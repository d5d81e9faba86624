"""The demo's worker: builds the embedding index of the lessons it is given.

The page declares ``@jobs.handler("rebuild-embeddings", worker="embed_worker.py")``; the
leader tab starts this worker once and sends it each rebuild job. The index (hashed TF-IDF
vectors of each lesson's title and notes, see tfidf.py) is the job's result: every tab
reads it from there to suggest similar past lessons.
"""

import browser

import tfidf
from brython_jobs.worker import handler


@handler("rebuild-embeddings")
def rebuild_embeddings(job):
    lessons = job.payload["lessons"]
    docs = []
    for lesson in lessons:
        docs.append({"id": lesson["id"],
                     "text": lesson["title"] + " " + (lesson.get("notes") or "")})
    step = max(1, len(docs) // 10)

    def progress(done, total):
        if done % step == 0 or done == total:
            job.update_progress(done / total, f"{done} of {total} lessons")
    index = tfidf.build(docs, progress=progress)
    # The lessons' titles and times go with the index, so a suggestion shows what the
    # index was built from, not what the calendar holds now.
    about = {}
    for lesson in lessons:
        about[str(lesson["id"])] = {"title": lesson["title"], "at": lesson["at"]}
    return {"vectors": len(docs), "dims": index["dims"], "index": index, "lessons": about,
            "fingerprint": job.payload.get("fingerprint"), "reason": job.payload.get("reason"),
            "worker": bool(browser.is_webworker)}
