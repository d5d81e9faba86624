"""Hashed TF-IDF text vectors: the demo's embedding method, shared by the worker that
builds the index (embed_worker.py) and the page that queries it (demo.py).

A lesson's text (title and notes) becomes words (lower case, letters and digits), each word
is hashed (32-bit FNV-1a) into one of ``DIMS`` buckets, and a bucket's weight is
``(1 + log tf) * idf`` with ``idf = log((1 + N) / (1 + df)) + 1`` over the N lessons
indexed; vectors are L2-normalised, so a dot product is the cosine similarity. Vectors are
sparse: ``[[bucket, weight], ...]``. Plain Python and ``math`` only (cheap in Brython).
"""

import math

DIMS = 1024
STOP = {"a", "an", "and", "the", "of", "to", "in", "on", "for", "with", "at", "by", "is",
        "are", "be", "it", "its", "as", "or", "from", "this", "that", "we", "our", "how"}


def words(text):
    """Lower-case words of letters and digits, without stop words and single letters."""
    out = []
    word = []
    for ch in (text or "").lower() + " ":
        if ch.isalnum():
            word.append(ch)
        elif word:
            w = "".join(word)
            if len(w) > 1 and w not in STOP:
                out.append(w)
            word = []
    return out


def bucket(word, dims=DIMS):
    """32-bit FNV-1a hash of ``word``, modulo ``dims``: the same in page and worker."""
    h = 2166136261
    for ch in word:
        h = ((h ^ ord(ch)) * 16777619) & 0xFFFFFFFF
    return h % dims


def term_counts(text, dims=DIMS):
    counts = {}
    for w in words(text):
        b = bucket(w, dims)
        counts[b] = counts.get(b, 0) + 1
    return counts


def weigh(counts, idf):
    """Sparse, L2-normalised ``[[bucket, weight], ...]`` of term counts."""
    vec = []
    norm = 0.0
    for b in counts:
        w = (1.0 + math.log(counts[b])) * idf[b]
        vec.append([b, w])
        norm += w * w
    norm = math.sqrt(norm) or 1.0
    out = []
    for pair in sorted(vec):
        out.append([pair[0], round(pair[1] / norm, 5)])
    return out


def build(docs, dims=DIMS, progress=None):
    """The index of ``docs`` (``[{"id", "text"}, ...]``): ``{"dims", "idf", "vectors":
    {str(id): sparse vector}}``. ``progress(done, total)`` is called as it goes."""
    counted = []
    df = [0] * dims
    for doc in docs:
        counts = term_counts(doc["text"], dims)
        counted.append(counts)
        for b in counts:
            df[b] += 1
    n = len(docs)
    idf = []
    for b in range(dims):
        idf.append(round(math.log((1.0 + n) / (1.0 + df[b])) + 1.0, 5))
    vectors = {}
    i = 0
    for doc in docs:
        vectors[str(doc["id"])] = weigh(counted[i], idf)
        i += 1
        if progress is not None:
            progress(i, n)
    return {"dims": dims, "idf": idf, "vectors": vectors}


def embed(text, index):
    """The query vector of ``text`` in ``index``'s space, as ``{bucket: weight}``."""
    out = {}
    for pair in weigh(term_counts(text, index["dims"]), index["idf"]):
        out[pair[0]] = pair[1]
    return out


def similar(index, text, k=3):
    """The ``k`` indexed ids most similar to ``text``: ``[(score, id), ...]``, best
    first, only scores above zero."""
    query = embed(text, index)
    if not query:
        return []
    scored = []
    for doc_id in index["vectors"]:
        score = 0.0
        for pair in index["vectors"][doc_id]:
            score += query.get(pair[0], 0.0) * pair[1]
        if score > 0:
            scored.append((round(score, 4), doc_id))
    scored.sort(reverse=True)
    return scored[:k]


def fingerprint(lessons):
    """A short hash of what the index is built from, to tell a stale index."""
    parts = []
    for lesson in sorted(lessons, key=lambda x: x["id"]):
        parts.append(f"{lesson['id']}|{lesson['at']}|{lesson['title']}|{lesson.get('notes', '')}")
    h = 2166136261
    for ch in "\n".join(parts):
        h = ((h ^ ord(ch)) * 16777619) & 0xFFFFFFFF
    return f"{len(lessons)}-{h:08x}"
