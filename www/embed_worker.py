"""The demo's worker: builds the embedding index of the lessons it is given.

The page declares ``@jobs.handler("rebuild-embeddings", worker="embed_worker.py")``; the
leader tab starts this worker once and sends it each rebuild job. The CPU-heavy part runs
here, so the calendar stays responsive while the index is rebuilt.
"""

from brython_jobs.worker import handler

DIMS = 32


def embed_text(text):
    """A hashed bag-of-words embedding, normalised: it stands in for a real model, and is
    made deliberately costly (many rounds) so that the work is visible."""
    vec = [0.0] * DIMS
    for word in text.lower().split():
        h = 0
        for rounds in range(2000):
            for ch in word:
                h = (h * 31 + ord(ch) + rounds) % 1000003
        vec[h % DIMS] += 1.0
    norm = sum(x * x for x in vec) ** 0.5 or 1.0
    return [round(x / norm, 4) for x in vec]


@handler("rebuild-embeddings")
def rebuild_embeddings(job):
    lessons = job.payload["lessons"]
    index = []
    for i, lesson in enumerate(lessons):
        index.append({"id": lesson["id"], "vector": embed_text(lesson["title"])})
        job.update_progress((i + 1) / len(lessons), f"{i + 1} of {len(lessons)} lessons")
    return {"vectors": len(index), "dims": DIMS, "index": index,
            "reason": job.payload.get("reason")}
