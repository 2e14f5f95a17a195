"""Grounded answers: retrieve passages, quote them in a prompt, stream the LLM, map citations.

Document text is treated as data. Each passage is quoted as exactly one line that starts with its
number; line breaks inside a passage are folded away, so document text cannot end its quote, start
another source or pose as the question. Citation markers are only accepted for the numbers of
passages actually given to the model; a "[7]" written inside a document is neutralised before the
model sees it and can never produce a citation to something that was not retrieved.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from indexer.aggregate import Aggregate, collect, parse
from indexer.query import SearchFilters
from indexer.quote import (
    EXTRACT_BAR,
    Embeds,
    Extract,
    content_words,
    exact_terms,
    first_sentence,
    named_terms,
    score_sentences,
    share_found,
)
from indexer.search import Hit, Searcher
from indexer.snippet import make_snippet

log = logging.getLogger(__name__)

NOT_FOUND_MARK = "NOT IN FILES"
NOT_FOUND_TEXT = "I couldn't find the answer to that in your files."
_CITE = re.compile(r"\[(\s*\d{1,3}(?:\s*[,;]\s*\d{1,3})*\s*)\]")
_WORD = re.compile(r"\w+", re.UNICODE)
# A keyword-only hit counts as relevant when it holds this share of the question's words.
KEYWORD_COVERAGE = 0.6
# An answer without citation markers must share this much vocabulary with some passage.
MIN_SUPPORT = 0.4

INSTRUCTIONS = (
    "Read the sources and answer the question in one sentence. Cite the source number like [1]. "
    f"If the sources do not answer it, reply {NOT_FOUND_MARK}."
)


class ChatModel(Protocol):
    """What ``ask`` needs from an LLM (implemented by :class:`models.llm.Llm`)."""

    def stream_chat(
        self,
        messages: list[dict[str, str]],
        *,
        max_tokens: int = ...,
        temperature: float = ...,
        should_stop: Callable[[], bool] | None = ...,
        stop: list[str] | None = ...,
    ) -> Any: ...

    def count_tokens(self, text: str) -> int: ...


@dataclass(frozen=True)
class AskConfig:
    """Answering settings.

    Attributes:
        passages: Passages retrieved and quoted.
        context_tokens: Token budget for the quoted passages.
        max_answer_tokens: Upper bound on the answer's length.
        extract_bar: Score a quoted sentence needs to count as the answer; below it the
            question is "not found in your files" and the model is not asked.
    """

    passages: int = 5
    context_tokens: int = 2400
    max_answer_tokens: int = 320
    extract_bar: float = EXTRACT_BAR


@dataclass
class Citation:
    """A passage given to the model, and whether the answer cites it."""

    n: int
    path: str
    page: int | None
    snippet: str
    chunk_id: str
    section: str | None = None
    cited: bool = False
    support: float = 0.0

    def to_json(self) -> dict[str, Any]:
        """Stable JSON shape (CLI ``--json``)."""
        return {
            "n": self.n,
            "path": self.path,
            "page": self.page,
            "snippet": self.snippet,
            "chunk_id": self.chunk_id,
            "section": self.section,
            "cited": self.cited,
            "support": round(self.support, 3),
        }


@dataclass
class Sentence:
    """One sentence of a generated answer and whether the sources back it.

    Attributes:
        text: The sentence as the model wrote it.
        cites: Source numbers its markers point at.
        grounded: Every number, date, name and place in it is found in a cited passage (or,
            uncited, in one passage of the sources). A sentence without such facts is grounded.
        missing: The facts that were not found.
    """

    text: str
    cites: list[int] = field(default_factory=list)
    grounded: bool = True
    missing: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """Stable JSON shape."""
        return {
            "text": self.text,
            "cites": self.cites,
            "grounded": self.grounded,
            "missing": self.missing,
        }


@dataclass
class Answer:
    """The outcome of a question.

    ``found`` says whether the files answer it; ``grounded`` whether every sentence of the
    generated answer is backed by the sources (sentences that are not are flagged in
    ``sentences`` and shown as "not in the sources"). ``extract`` is the quoted answer sentence.
    """

    answer: str
    found: bool
    citations: list[Citation] = field(default_factory=list)
    stopped: bool = False
    extract: Extract | None = None
    sentences: list[Sentence] = field(default_factory=list)
    aggregate: Aggregate | None = None
    unmentioned: list[str] = field(default_factory=list)

    @property
    def grounded(self) -> bool:
        """Whether no sentence of the answer states a fact missing from the sources."""
        return all(s.grounded for s in self.sentences)

    def to_json(self) -> dict[str, Any]:
        """Stable JSON shape (CLI ``--json``)."""
        return {
            "answer": self.answer,
            "found": self.found,
            "grounded": self.grounded,
            "stopped": self.stopped,
            "extract": self.extract.to_json() if self.extract else None,
            "sentences": [s.to_json() for s in self.sentences],
            "citations": [c.to_json() for c in self.citations],
            "aggregate": self.aggregate.to_json() if self.aggregate else None,
            "unmentioned": self.unmentioned,
        }


def neutralise(text: str) -> str:
    """Make passage text inert inside the prompt.

    Each source is exactly one line that starts with ``[n]``: line breaks are folded into spaces,
    so a passage can never start a line of its own (and pose as another source or as the
    question), and bracketed numbers become ``(n)``, so a document cannot carry citation markers.
    """
    text = " ".join(text.split())
    return _CITE.sub(lambda m: "(" + m.group(1).strip() + ")", text)


# Models whose file is at least this large read each source's file name and page (measured:
# Qwen2.5-Coder-1.5B, 1.1 GB, told two reports apart better; SmolLM2-135M, 98 MB, did not).
NAMED_SOURCES_MIN_BYTES = 800_000_000


def reads_source_names(llm: object) -> bool:
    """Whether ``llm`` is shown its sources' file names (a large enough model file)."""
    spec = getattr(llm, "spec", None)
    size = getattr(spec, "size", None)
    path = getattr(spec, "file", None)
    if size is None and path is not None:
        try:
            size = Path(path).stat().st_size
        except OSError:
            return False
    return size is not None and size >= NAMED_SOURCES_MIN_BYTES


def source_name(hit: Hit) -> str:
    """A source's file name and page, inert like its text."""
    where = f", page {hit.page}" if hit.page is not None and hit.message is None else ""
    return neutralise(Path(hit.path).name) + where


def build_prompt(question: str, hits: list[Hit], *, names: bool = False) -> list[dict[str, str]]:
    """Chat messages that quote ``hits`` as numbered one-line sources for ``question``.

    Instructions come first and the question last, each source on one line of its own: the
    layout that small local models follow best (measured on SmolLM2-135M), and one where
    document text has no way to leave its line. With ``names`` each line starts with its file
    and page ("[2] accident-norway.pdf, page 2: …"): Qwen2.5 1.5B told two reports apart
    better with them, but SmolLM2-135M, the default, took the name for the text ("The source
    number is not in the answer."), so only large models get them (:func:`reads_source_names`;
    benchmarks/README.md).
    """
    if names:
        lines = [f"[{n}] {source_name(h)}: {neutralise(h.text)}" for n, h in enumerate(hits, 1)]
    else:
        lines = [f"[{n}] {neutralise(h.text)}" for n, h in enumerate(hits, start=1)]
    user = (
        f"{INSTRUCTIONS}\n\nSources:\n"
        + "\n".join(lines)
        + f"\n\nQuestion: {' '.join(question.split())}"
    )
    return [{"role": "user", "content": user}]


def parse_citations(answer: str, n_sources: int) -> list[int]:
    """Source numbers cited in ``answer``, in order of first appearance, limited to 1..n."""
    seen: list[int] = []
    for m in _CITE.finditer(answer):
        for part in re.split(r"[,;]", m.group(1)):
            n = int(part.strip())
            if 1 <= n <= n_sources and n not in seen:
                seen.append(n)
    return seen


def strip_invalid_markers(answer: str, n_sources: int) -> str:
    """Remove markers that point at no source (the model invented them)."""

    def fix(m: re.Match[str]) -> str:
        nums = [p.strip() for p in re.split(r"[,;]", m.group(1))]
        keep = [p for p in nums if p.isdigit() and 1 <= int(p) <= n_sources]
        return f"[{', '.join(keep)}]" if keep else ""

    return _CITE.sub(fix, answer)


def support(answer: str, passage: str) -> float:
    """How well the passage backs the answer (0–1).

    The best sentence counts: the share of its content words found in the passage. A long answer
    whose first sentence is taken from the passage and the rest is padding still counts as
    supported; a one-line answer from the model's general knowledge does not.
    """
    words = content_words(passage)
    best = 0.0
    for sentence in re.split(r"(?<=[.!?])\s+|\n+", _CITE.sub(" ", answer)):
        a = content_words(sentence)
        if len(a) >= 2:
            best = max(best, len(a & words) / len(a))
    return best


_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=\S)|\n+")
_SENTENCE_PARTS = re.compile(r"((?<=[.!?])\s+(?=\S)|\n+)")  # the same, separators kept


def _sentence_groups(parts: list[str]) -> list[list[int]]:
    """Indexes into ``parts``, an answer split by ``_SENTENCE_PARTS`` (pieces at even indexes,
    separators at odd ones), one list per sentence: a piece that is only a marker ("… 400
    feet. [1]") belongs to the sentence before it."""
    groups: list[list[int]] = []
    for i in range(0, len(parts), 2):
        piece = parts[i].strip()
        if not piece:
            continue
        if groups and not _CITE.sub("", piece).strip(" .,;"):
            groups[-1].append(i)
        else:
            groups.append([i])
    return groups


def _pair_holds(sentence: str, facts: set[str], a: Hit, b: Hit) -> bool:
    """Whether two passages hold a sentence's facts between them: two pages of one document
    ("the accident in Panama", page 1, "at 400 feet", page 2), or two documents when each part
    of the sentence joined by "and" / a comma finds its facts in one of them. A name from one
    report with a number from another in one clause is the mix-up this check exists for."""
    if share_found(facts, a.text + " " + b.text) < 1:
        return False
    if a.doc == b.doc:
        return True
    for part in _CLAUSE_BREAK.split(_CITE.sub(" ", sentence)):
        own = exact_terms(part)
        if own and all(share_found(own, h.text) < 1 for h in (a, b)):
            return False
    return True


def recite(answer: str, hits: list[Hit]) -> str:
    """Point a sentence's markers at the passage that holds its facts when the passage it cites
    does not.

    Small models cite the first source for a fact they read in another ("…within 30 days [1]"
    with the payment terms in [2]): the fact is in the sources, the pointer is wrong, and a
    wrong first source is what the reader would open. A sentence whose cited passages lack
    some of its numbers and names, while one other passage holds them all, cites that passage
    instead (the one that holds most of its words, if several do); when no one passage holds
    them all, the two that do between them (:func:`_pair_holds`). A fact no passage (or pair)
    holds is left for :func:`check_grounding` to flag.
    """
    parts = _SENTENCE_PARTS.split(answer)
    for group in _sentence_groups(parts):
        text = " ".join(parts[i] for i in group)
        cites = parse_citations(text, len(hits))
        facts = exact_terms(_CITE.sub(" ", text))
        if not cites or not facts:
            continue
        if share_found(facts, " ".join(hits[n - 1].text for n in cites)) == 1:
            continue
        holders = [n for n, h in enumerate(hits, start=1) if share_found(facts, h.text) == 1]
        if holders:
            best = [max(holders, key=lambda n: support(text, hits[n - 1].text))]
        else:
            # "The warranty is 10 years and the Berlin tenant gives three months' notice [3]":
            # two facts from two passages; cite the pair that holds them all, if one does.
            pairs = [
                (a, b)
                for a in range(1, len(hits) + 1)
                for b in range(a + 1, len(hits) + 1)
                if _pair_holds(text, facts, hits[a - 1], hits[b - 1])
            ]
            if not pairs:
                continue
            best = list(max(pairs, key=lambda p: sum(support(text, hits[n - 1].text) for n in p)))
        log.info("Sentence cited %s for facts that sources %s hold", cites, best)
        marker = "[" + ", ".join(map(str, best)) + "]"
        for i in group:
            parts[i] = _CITE.sub(marker, parts[i])
    return "".join(parts)


# Words an answer uses about its sources rather than from them ("According to the document…").
_TALK = content_words(
    "yes no according source sources document documents passage passages text file files "
    "mention mentions mentioned state states stated say says said provide provides provided "
    "information given answer question context based also however therefore must should "
    "would could might shall will can may"
)
# Two words that neither the question nor any source holds make a sentence the model's own:
# one is often a verb's other form ("took" for "take off"), two were an invented fact ("The
# path is maintained by the local community").
MAX_NEW_WORDS = 1


def check_grounding(
    answer: str,
    hits: list[Hit],
    question: str = "",
    titles: dict[str, str] | None = None,
    *,
    names: bool = False,
) -> list[Sentence]:
    """Split ``answer`` into sentences and check each one's facts against the sources.

    A fact is a number or a name (a capitalised word that does not start the sentence, which
    covers dates' months, people and places). A cited sentence must find all of its facts in
    the passages it cites; an uncited one in at least one passage of the sources.

    Words count too, beyond one (:data:`MAX_NEW_WORDS`: a verb's other form, a paraphrase): a
    sentence is not grounded when more of its words are in neither ``question`` nor any
    source (the model's own: "maintained by the local community"), or are the question's own
    words that the passages it cites never use, not even in their document's first sentence
    (``titles``, per document): "The new sports hall costs 38,500 pounds [3]", where [3] is
    the rowing club's minutes. The price: a right answer in the question's own words that its
    source puts otherwise ("212 students took part [1]" where the study had "212 students")
    is greyed too (benchmarks/README.md). A passage's facts and words include its document's
    title.
    """
    out: list[Sentence] = []
    parts = _SENTENCE_PARTS.split(answer)
    pieces = [" ".join(parts[i].strip() for i in group) for group in _sentence_groups(parts)]
    titles = titles or {}
    asked = content_words(question)
    # Each source's words once: what the model read of it (with ``names``, its file name too),
    # and that with its document's title, which a sentence citing it may also draw on.
    read = [content_words(f"{h.text} {source_name(h)}" if names else h.text) for h in hits]
    backed = [r | content_words(titles.get(h.doc, "")) for r, h in zip(read, hits, strict=True)]
    known = asked | _TALK | set().union(*read)
    for text in pieces:
        cites = parse_citations(text, len(hits))
        plain = _CITE.sub(" ", text)
        facts = exact_terms(plain)
        used = [n - 1 for n in cites] if cites else list(range(len(hits)))
        # a passage with its document's title: "the Berlin apartment" on the lease's page 2
        pool = [f"{hits[i].text} {titles.get(hits[i].doc, '')}" for i in used]
        if cites:
            joined = " ".join(pool)
            missing = sorted(t for t in facts if share_found({t}, joined) == 0)
        else:
            best = min(
                ([t for t in facts if share_found({t}, p) == 0] for p in pool),
                key=len,
                default=sorted(facts),
            )
            missing = sorted(best)
        words = content_words(plain)
        behind = _TALK.union(*(backed[i] for i in used))
        new_words = (words - known) | (words & asked) - behind
        new_words -= set(missing)
        if len(new_words) > MAX_NEW_WORDS:
            missing = sorted(set(missing) | new_words)
        out.append(Sentence(text, cites, not missing, missing))
    return out


def restates(answer: str, question: str) -> bool:
    """Whether ``answer`` only repeats ``question`` ("The study was published in the journal."
    for "Which journal published the study?"): no word, number or name of its own. A yes or
    no, and a pick between options the question offers ("gas or oil?"), are answers."""
    plain = _CITE.sub(" ", answer)
    if re.match(r"\W*(?:yes|no)\b", plain, re.I) or re.search(r"\bor\b", question, re.I):
        return False
    if not content_words(plain) - _TALK and not exact_terms(plain):
        return False  # a bare "[1]" points at its source, as before; it repeats nothing
    own_words = content_words(plain) - content_words(question) - _TALK
    own_terms = exact_terms(plain) - exact_terms(question)
    return not own_words and not own_terms


_COORDINATED = re.compile(
    r"&|\b(?:and|or|nor|versus|vs)\b"  # "Panama and (in) Norway"
    r"|^\s*,\s*(?:(?:in|at|on|of|for|from|the|a|an)\s+)*$",  # "Panama, Norway": a list
    re.I,
)


def term_groups(question: str, terms: list[str]) -> list[list[str]]:
    """``terms`` (:func:`~indexer.quote.named_terms` of ``question``) in the groups a file must
    mention together: names the question joins with "and", "or" or a comma are alternatives
    ("the accidents in Panama and in Norway": a file about either is a source), the rest go
    together ("the Riverside Rowing Club … in 2023": a file must mention both)."""
    placed = sorted((question.find(t), t) for t in terms)
    groups: list[list[str]] = []
    end = -1
    for at, term in placed:
        if not groups or (at >= 0 and end >= 0 and _COORDINATED.search(question[end:at])):
            groups.append([term])
        else:
            groups[-1].append(term)
        end = at + len(term) if at >= 0 else end
    return groups


_CLAUSE_BREAK = re.compile(r"\s*(?:[,;]\s*)?\b(?:and|or)\b\s*|\s*[,;]\s+", re.I)


def open_clauses(question: str, terms: list[str]) -> list[str]:
    """The parts of a question joined by "and" / "or" / a comma that name none of ``terms``
    but ask about something ("Who led the sleep study, and who inspected the Aldergate
    footbridge?": "Who led the sleep study"): files that match such a part are sources too,
    though they do not mention the names of the other part."""
    out = []
    for part in _CLAUSE_BREAK.split(question):
        if not any(t in part for t in terms) and len(content_words(part)) >= 2:
            out.append(part.strip())
    return out


def not_mentioned_text(terms: list[str]) -> str:
    """The not-found answer for names no file holds: 'Nothing in your files mentions “Peru”.'"""
    names = [f"\u201c{t}\u201d" for t in terms]
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
    return f"Nothing in your files mentions {listed}."


# A model that declines in its own words: "The average age … was not provided in the sources."
_DECLINE = re.compile(
    r"\b(?:is|are|was|were)\s+not\s+(?:provided|mentioned|specified|stated|given|found|"
    r"available|included|listed)\s+in\s+(?:the\s+|your\s+)?(?:sources?|files?|passages?|"
    r"documents?|text|context)\b"
    r"|\b(?:the\s+|your\s+)?(?:sources?|files?|passages?|documents?|context)\s+(?:do|does)\s+"
    r"not\s+(?:say|mention|specify|state|provide|contain|include|give|answer)\b",
    re.I,
)


def is_not_found(answer: str) -> bool:
    """Whether the model said the sources do not answer the question: the reply asked for, or
    a first sentence that says so in other words."""
    low = answer.lower()
    if NOT_FOUND_MARK.lower() in low or "not in your files" in low or not answer.strip():
        return True
    first = _SENTENCE.split(answer.strip(), maxsplit=1)[0]
    return _DECLINE.search(first) is not None


class Asker:
    """Answers questions from the index: the quoted sentence first, then a checked LLM answer."""

    def __init__(
        self,
        searcher: Searcher,
        llm: ChatModel | None,
        config: AskConfig | None = None,
        embedder: Embeds | None = None,
    ) -> None:
        self.searcher = searcher
        self.llm = llm
        self.config = config or AskConfig()
        self.embedder = embedder or getattr(searcher, "embedder", None)

    def _count(self, text: str) -> int:
        if self.llm is None:
            return len(text) // 4
        return self.llm.count_tokens(text)

    def retrieve(self, question: str, filters: SearchFilters | None = None) -> list[Hit]:
        """Passages worth quoting: relevant, within the token budget."""
        return self._retrieve(question, filters)[0]

    def _retrieve(
        self, question: str, filters: SearchFilters | None
    ) -> tuple[list[Hit], list[Hit]]:
        result = self.searcher.search(question, limit=self.config.passages * 2, filters=filters)
        min_sim = self.searcher.config.min_similarity
        terms = content_words(question)
        relevant = [
            h
            for h in result.hits
            if (h.similarity is not None and h.similarity >= min_sim)
            or (
                h.keyword_rank is not None
                and terms
                and len(terms & content_words(h.text)) / len(terms) >= KEYWORD_COVERAGE
            )
        ]
        chosen: list[Hit] = []
        used = 0
        for h in relevant:
            cost = self._count(h.text) + 24
            if used + cost > self.config.context_tokens:
                continue
            chosen.append(h)
            used += cost
            if len(chosen) >= self.config.passages:
                break
        return chosen, result.hits[: self.config.passages]

    def _extract(
        self, question: str, hits: list[Hit], filters: SearchFilters | None
    ) -> tuple[Extract | None, list[str], set[str] | None]:
        """The answering sentence (or None), the names/numbers of the question that no file
        mentions at all, and the documents of ``hits`` that mention all of them (None: the
        question names nothing to check).

        A sentence answers a question that names something ("Peru", "2023", "Boeing 737") only
        when its file mentions that too: a report on Panama does not answer "What caused the
        accident in Peru?", however close in meaning its sentences are. The best sentence that
        clears the bar in a file that mentions every such term is the extract.
        """
        if self.embedder is None or not hits:
            return None, [], None
        terms = named_terms(question)
        # Names are checked per file below, so sentences are scored on what is asked of them.
        ranked = [
            e
            for e in score_sentences(
                question, hits, self.embedder, named=terms, openings=self._openings(hits[:5])
            )
            if e.score >= self.config.extract_bar
        ]
        if not terms:
            return (ranked[0] if ranked else None), [], None
        fitting: set[str] = set()
        unmentioned = []
        for group in term_groups(question, terms):
            # "the accidents in Panama and in Norway": a file that mentions either fits
            fits = {h.doc for h in hits}
            for term in group:
                docs = self.searcher.mentioning(term, among=fits, filters=filters)
                if docs is None:
                    continue  # the index cannot tell: no constraint
                fits &= docs
                if not docs and not self.searcher.mentioning(term, filters=filters):
                    unmentioned.append(term)
            fitting |= fits
        for part in open_clauses(question, terms):
            # a part of the question that names nothing: a file matching most of its words
            words = content_words(part)
            fitting |= {h.doc for h in hits if 2 * len(words & content_words(h.text)) >= len(words)}
        doc_of = {h.chunk_id: h.doc for h in hits}
        best = next((e for e in ranked if doc_of[e.chunk_id] in fitting), None)
        if ranked and best is not ranked[0]:
            log.info(
                "The best sentence's file does not mention %s; %s",
                ", ".join(terms),
                "quoting another file" if best else "not found",
            )
        return best, unmentioned, fitting

    def _titles(self, hits: list[Hit]) -> dict[str, str]:
        """Per document of ``hits``, the first sentence of its first page (its title)."""
        first = {(h.doc, 1 if h.page is not None else None) for h in hits}
        try:
            texts = self.searcher.page_openings(first)
        except Exception:  # the check goes on without titles
            log.exception("Could not read the sources' titles")
            return {}
        return {doc: first_sentence(text) for (doc, _), text in texts.items()}

    def _openings(self, hits: list[Hit]) -> dict[str, str]:
        """Per passage, the first sentence of its page (of its document when it has no pages):
        the title or heading its sentences are read under (:func:`score_sentences`)."""
        texts: dict[tuple[str, int | None], str] = {
            (h.doc, h.page): h.text for h in hits if h.start == 0 and h.page is not None
        }
        missing = {(h.doc, h.page) for h in hits} - texts.keys()
        if missing:  # passages further down their page: its first one, in one query
            texts.update(self.searcher.page_openings(missing))
        openings = {h.chunk_id: first_sentence(texts.get((h.doc, h.page), "")) for h in hits}
        return {chunk: text for chunk, text in openings.items() if text}

    def ask(
        self,
        question: str,
        *,
        on_token: Callable[[str], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
        filters: SearchFilters | None = None,
        on_extract: Callable[[Extract | None, list[Hit]], None] | None = None,
    ) -> Answer:
        """Answer ``question``.

        ``on_extract`` is called as soon as search returns, with the quoted answer sentence (or
        ``None``: not found) and the passages; then the LLM's answer streams to ``on_token``.
        When no sentence clears the bar the model is not asked at all: the files do not answer
        the question, and the closest passages are returned as "possibly related".
        """
        agg = parse(question)
        if agg is not None:
            return self._aggregate(agg[0], agg[1], filters)
        hits, closest = self._retrieve(question, filters)
        quote, unmentioned, fitting = self._extract(question, hits, filters)
        if quote is not None and fitting is not None:
            # The model reads only files that mention what the question names: a report on
            # another accident is not a source for "What caused the accident in Panama?".
            hits = [h for h in hits if h.doc in fitting]
        if on_extract is not None:
            on_extract(quote, hits or closest)
        if quote is None:
            cites = self._citations(hits or closest, "", [])
            text = not_mentioned_text(unmentioned) if unmentioned else NOT_FOUND_TEXT
            return Answer(text, found=False, citations=cites, unmentioned=unmentioned)
        if self.llm is None:
            return Answer(
                quote.text,
                found=True,
                citations=self._citations(hits, quote.text, []),
                extract=quote,
                unmentioned=unmentioned,  # "… in Panama and in Peru": Peru is in no file
            )
        messages = build_prompt(question, hits, names=reads_source_names(self.llm))
        pieces: list[str] = []
        stop = should_stop or (lambda: False)
        for piece in self.llm.stream_chat(
            messages,
            max_tokens=self.config.max_answer_tokens,
            temperature=0.1,
            should_stop=stop,
            stop=["\nSources:", "\nQuestion:"],
        ):
            pieces.append(piece)
            if on_token is not None:
                on_token(piece)
        raw = "".join(pieces).strip()
        answer = self.finish(question, raw, hits, stopped=stop())
        answer.extract = quote
        answer.unmentioned = unmentioned
        if not answer.found:
            # The model read the passages and found no answer in them. On the answer benchmark
            # the 1.5B model declined only questions whose answer was absent (the extract had
            # cleared the bar on a related sentence), so its "not found" stands; the quote is
            # kept in ``extract`` for the caller to show as possibly related.
            log.info("The model found no answer in passages the extract had matched")
        return answer

    def _aggregate(self, kind: str, topic: str, filters: SearchFilters | None) -> Answer:
        """A question about the collection: every matching file, grouped, counted, dated."""
        agg = collect(self.searcher, kind, topic, filters)
        hits = [f.first for f in agg.files if f.first is not None]
        cites = self._citations(hits, topic, list(range(1, len(hits) + 1)))
        return Answer(agg.text(), found=bool(agg.files), citations=cites, aggregate=agg)

    def finish(self, question: str, raw: str, hits: list[Hit], *, stopped: bool = False) -> Answer:
        """Turn the model's raw text into an :class:`Answer` with mapped, checked citations."""
        if is_not_found(raw) and not stopped:
            return Answer(
                NOT_FOUND_TEXT,
                found=False,
                citations=self._citations(hits, raw, []),
                stopped=stopped,
            )
        text = recite(strip_invalid_markers(raw, len(hits)), hits)
        cited = parse_citations(text, len(hits))
        citations = self._citations(hits, text, cited)
        titles = self._titles([hits[n - 1] for n in cited] or hits)
        names = reads_source_names(self.llm)
        sentences = check_grounding(text, hits, question, titles, names=names)
        if restates(text, question) and not stopped:
            log.info("The answer only repeats the question; reporting not found")
            return Answer(NOT_FOUND_TEXT, found=False, citations=self._citations(hits, raw, []))
        if not cited and not stopped and max(c.support for c in citations) < MIN_SUPPORT:
            # No marker and hardly a word of the answer is in the sources: the model answered
            # from its own knowledge, which is not what Findling promises.
            log.info("Answer not grounded in the retrieved passages; reporting not found")
            return Answer(NOT_FOUND_TEXT, found=False, citations=citations)
        unsupported = sum(not s.grounded for s in sentences)
        if unsupported:
            log.info("%d sentence(s) of the answer are not in the sources", unsupported)
        return Answer(text, found=True, citations=citations, stopped=stopped, sentences=sentences)

    def _citations(self, hits: list[Hit], answer: str, cited: list[int]) -> list[Citation]:
        out = []
        for n, h in enumerate(hits, start=1):
            out.append(
                Citation(
                    n=n,
                    path=h.path,
                    page=h.page,
                    snippet=make_snippet(h.text, answer).text,
                    chunk_id=h.chunk_id,
                    section=h.section,
                    cited=n in cited,
                    support=support(answer, h.text),
                )
            )
        # Sources in the order the answer used them: cited ones by first citation, then the
        # rest by how much of the answer they hold (ties keep the retrieval order).
        order = {n: i for i, n in enumerate(cited)}
        out.sort(key=lambda c: (0, order[c.n], 0.0) if c.cited else (1, 0, -c.support))
        return out
