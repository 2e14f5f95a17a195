"""The answer sentence, quoted from the retrieved passages before any model writes a word.

Each sentence of the best passages is scored against the question: the embedding model's cosine
similarity between question and sentence, plus the share of the question's content words, and its
numbers and names, that the sentence contains. The best sentence (with its neighbour when it is
too short to stand alone) is the *extract*. Its ``start``/``end`` are character offsets into the
text of the passage named by ``chunk_id`` (``Hit.text``, the passage as stored in the index), so
``passage[start:end] == extract.text`` always holds.

Below :data:`EXTRACT_BAR` no sentence is trusted to answer: the caller says "not found in your
files" and shows the closest passages as "possibly related". The bar was measured, not guessed:
``benchmarks/eval_answers.py --calibrate`` records the best-sentence score of questions whose
answer is in the files and of questions whose answer was left out, and picks the bar that
separates them best (results in ``benchmarks/results/extract-calibration.json``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from indexer.search import CODE, Hit
from indexer.snippet import STOP_WORDS, stem

# Measured on the answer benchmark (see module docstring): the threshold with the best balanced
# accuracy between present and absent questions.
EXTRACT_BAR = 0.46
# Weights of the signals in a sentence's score: meaning, shared words, exact numbers/names, and
# whether the sentence holds the kind of thing the question asks for (a date for "when"…).
W_SIM, W_WORDS, W_EXACT, W_TYPE = 0.7, 0.2, 0.1, 0.2
# Taken off a sentence that lacks what the question cannot be answered without (a count for
# "how many", an amount of money for "what did it cost"): more than any sentence can score, so
# it never clears the bar, and it still ranks among its kind.
W_LACKS = 1.2
# Sentences shorter than this are joined with the next one, so a card is never a bare fragment.
MIN_SENTENCE = 60
MAX_SENTENCE = 600

_WORD = re.compile(r"\w+", re.UNICODE)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_NAME = re.compile(r"\b[A-Z][\w'’-]+(?:\s+[A-Z][\w'’-]+)*")
# A sentence ends at . ! ? (not inside a number like 3.5 or an initial like "J. Smith") or at a
# blank line; bullet lines end at their line break.
_END = re.compile(
    r"(?<=[.!?])[\"')\]»”]*\s+(?=[\"'(\[«“]?[A-Z0-9])|\n\s*\n|\n(?=\s*[-•*\d]+[.)]?\s)"
)


class Embeds(Protocol):
    """What the extractor needs from an embedding model (``models.embedder.Embedder``)."""

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]: ...

    def embed_query(self, query: str) -> npt.NDArray[np.float32]: ...


@dataclass
class Extract:
    """A quoted sentence (or two) and where it is.

    Attributes:
        text: The quoted text, exactly ``passage_text[start:end]``.
        path: Absolute path of the file.
        page: 1-based page, or ``None`` for formats without pages.
        chunk_id: The passage the offsets refer to.
        start: Character offset of the quote in the passage text.
        end: Character offset just past the quote.
        score: Relevance score (compare with :data:`EXTRACT_BAR`).
        section: Section heading of the passage, if known.
    """

    text: str
    path: str
    page: int | None
    chunk_id: str
    start: int
    end: int
    score: float
    section: str | None = None

    def to_json(self) -> dict[str, Any]:
        """Stable JSON shape (``findling ask --json``, the ``extract`` line)."""
        return {
            "text": self.text,
            "path": self.path,
            "page": self.page,
            "chunk_id": self.chunk_id,
            "start": self.start,
            "end": self.end,
            "score": round(self.score, 3),
        }


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences of ``text``, surrounding whitespace excluded."""
    spans: list[tuple[int, int]] = []
    pos = 0
    for m in _END.finditer(text):
        spans.append((pos, m.start()))
        pos = m.end()
    spans.append((pos, len(text)))
    out = []
    for a, b in spans:
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        if b - a >= 3:
            out.append((a, b))
    return out


def first_sentence(text: str) -> str:
    """The first sentence of ``text`` ("" when it has none): a page's or a document's title."""
    spans = sentence_spans(text)
    return text[spans[0][0] : spans[0][1]] if spans else ""


def _units(text: str) -> list[tuple[int, int]]:
    """Sentences, a very long one cut at a space; a short one also with its next sentence."""
    sents: list[tuple[int, int]] = []
    for a, b in sentence_spans(text):
        while b - a > MAX_SENTENCE:
            cut = text.rfind(" ", a, a + MAX_SENTENCE)
            cut = cut if cut > a else a + MAX_SENTENCE
            sents.append((a, cut))
            a = cut + 1
        sents.append((a, b))
    # A bare fragment ("Probable cause.") is never a card of its own: it is scored joined with
    # the sentence after it, which is where its content is.
    return [
        (a, sents[i + 1][1]) if b - a < MIN_SENTENCE and i + 1 < len(sents) else (a, b)
        for i, (a, b) in enumerate(sents)
    ]


def content_words(text: str) -> set[str]:
    """Stemmed words of ``text`` that carry meaning (no stop words, at least 3 letters)."""
    return {stem(w) for w in _WORD.findall(text.lower()) if w not in STOP_WORDS and len(w) > 2}


_ORDINAL_SUFFIX = re.compile(r"(?:st|nd|rd|th)\b", re.I)
_MONTH_WORD = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*"
_MONTH_NAME = _MONTH_WORD + r"\.?"  # "Feb." too
_MONTH_NEAR = re.compile(rf"\b{_MONTH_NAME}(?!\w)", re.I)


def exact_terms(text: str) -> set[str]:
    """Numbers and names in ``text``: what an answer must match exactly, not by meaning.

    An ordinal is its own term ("41st" is not the 41 of "Kastanienallee 41"), except in a date
    ("March 12th" is the 12 of "12 March").
    """
    terms: set[str] = set()
    for m in _NUMBER.finditer(text):
        suffix = _ORDINAL_SUFFIX.match(text, m.end())
        near = text[max(0, m.start() - 12) : m.end() + 14]
        if suffix is not None and not _MONTH_NEAR.search(near):
            terms.add(m.group(0).replace(",", "") + suffix.group(0).lower())
        else:
            terms.add(m.group(0).replace(",", ""))
    for m in _NAME.finditer(text):
        # The first word of a sentence is capitalised anyway; keep it only inside a longer name.
        start = m.start()
        before = text[:start].rstrip()
        first_word = not before or before[-1] in ".!?:\n"
        words = m.group(0).split()
        if first_word:
            words = words[1:]
        terms.update(w.lower() for w in words if w.lower() not in STOP_WORDS)
    return terms


_POSSESSIVE = re.compile(r"['’]s?$")
_PLAIN_NAME = re.compile(
    r"^(?:(?:[A-Z][a-z]+|[A-Z]['’][A-Z][a-z]+)(?:[-'’][A-Za-z][a-z]*)*|[A-Z]{3,})$"
)
_GERMAN = re.compile(
    r"\b(?:der|die|das|des|dass|und|oder|aber|ist|ein|eine|einen|nicht|mit|von|dem|wie|wer|"
    r"wann|warum|für|auf|im|auch|noch|mein|meine|unsere|"
    r"sind|wurde|wurden|hat|haben|welche|welcher|welches|wieviel|wo|zu|bei|nach|über)\b",
    re.IGNORECASE,
)
_WHOLE_NUMBER = re.compile(r"(?<![\w.,])\d+(?:[.,]\d+)*(?!\w)")  # not "ALDH1", "1990s"


def named_terms(question: str) -> list[str]:
    """The names and numbers ``question`` names, as written ("Peru", "Panama City", "2023",
    "F28"): what a file must mention for one of its sentences to answer it.

    A name of several capitalised words stays one term; a possessive is dropped ("Keller's");
    the question's first word is capitalised anyway and counts only inside a longer name; stop
    words never count. A code of capitals and two or more digits ("F28", "E10", "A320") is a
    term (``Searcher.mentioning`` also finds it written "F-28"); other numbers inside a word
    ("1990s") are not terms on their own.

    Only what is written one way counts: plain names ("Peru", "Boeing", "NTSB"), codes and
    numbers of three digits or more (years, amounts, model numbers). Identifiers such as "Th2",
    "IFN-γ" or "PrP" are written many ways ("T(H)2", "interferon-gamma"), a two-letter acronym
    is often spelled out ("UK"), and small numbers often are too ("six passengers"): requiring
    those literally turned answerable SciFact claims into "not found".
    """
    out: list[str] = []
    taken: list[tuple[int, int]] = []
    # German capitalises every noun ("Was kostet die Reparatur des Daches?"): there a capital
    # says nothing about a name, so only numbers and codes count.
    german = len(_GERMAN.findall(question)) >= 2
    for m in _NAME.finditer(question):
        taken.append(m.span())
        if german:
            continue
        words = m.group(0).split()
        before = question[: m.start()].rstrip()
        if not before or before[-1] in '.!?:;"“«(\n':
            words = words[1:]
        words = [_POSSESSIVE.sub("", w) for w in words]
        words = [w for w in words if w and w.lower() not in STOP_WORDS]
        if words and all(_PLAIN_NAME.match(w) for w in words):
            out.append(" ".join(words))
    out += [m.group(0) for m in CODE.finditer(question)]  # a code in any language
    for m in _WHOLE_NUMBER.finditer(question):
        digits = sum(c.isdigit() for c in m.group(0))
        if digits >= 3 and not any(a <= m.start() < b for a, b in taken):
            out.append(m.group(0))
    seen: set[str] = set()
    return [t for t in out if not (t.lower() in seen or seen.add(t.lower()))]  # type: ignore[func-returns-value]


_SPELLED = [
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
    "nineteen", "twenty",
]  # fmt: skip
_SPELLED_OUT = {str(n): w for n, w in enumerate(_SPELLED)}


def share_found(terms: set[str], text: str) -> float:
    """The share of ``terms`` (lower-case names, numbers without thousands separators) that
    ``text`` holds; a small number also counts written out ("8" in "eight hours")."""
    if not terms:
        return 0.0
    low = text.lower().replace(",", "")
    words = set(_WORD.findall(low)) | set(_NUMBER.findall(low))
    return sum(t in words or _SPELLED_OUT.get(t, "") in words for t in terms) / len(terms)


_MONTH = rf"{_MONTH_NAME}\s+\d{{1,2}}|\d{{1,2}}\s+{_MONTH_WORD}"  # a day and its month
# Question cue -> what an answering sentence contains.
_ASKS = [
    (re.compile(r"\b(when|what year|what date|which year)\b", re.I),
     re.compile(rf"\b(1[89]\d\d|20\d\d)\b|{_MONTH}", re.I)),
    (re.compile(r"\b(how (many|much|long|far|often|old|big|large|high)|what (is the )?"
                r"(amount|number|total|price|cost|rate|percentage|limit))\b", re.I),
     re.compile(r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|twelve|once|twice|"
                r"annually|daily|weekly|monthly|yearly)\b", re.I)),
    (re.compile(r"\b(why|what caused|cause|reason)\b", re.I),
     re.compile(r"\b(caus\w*|because|due to|led to|result\w*|reason|factor\w*)\b", re.I)),
    (re.compile(r"\bwho\b", re.I), re.compile(r"\b[A-Z][a-z]+\s+[A-Z][a-z]+")),
]  # fmt: skip


# What some questions cannot be answered without: "how many" a count, "how much ... cost" an
# amount of money. The title sentence of a report names its subject and usually a date and a
# report number, so without this it was quoted for "How many people were on board the Dash 8?".
_COUNT_Q = re.compile(r"\bhow many\b", re.I)
_COST_Q = re.compile(
    r"\bhow much\b[^?]*\b(?:cost|costs|pay|paid|pays|spend|spent|charged?)\b|\bhow expensive\b"
    r"|\bwhat (?:is|was|are|were|will be|would be) the (?:price|cost)s?\b",
    re.I,
)
_NUMBER_WORDS = "|".join(_SPELLED[1:]) + (  # one … twenty, then tens and multiples
    r"|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundreds?|thousands?|millions?|billions?"
    r"|dozens?"
)
_COUNT_WORD = re.compile(
    rf"\b(?:{_NUMBER_WORDS}|none|nobody|no one|zero|both|several|single|once|twice)\b", re.I
)
_CURRENCY = (
    r"(?:[$€£¥₹]|\b(?:USD|EUR|GBP|CHF|JPY|CAD|AUD|NZD|SEK|NOK|DKK|PLN|CZK|HUF|INR|CNY|BRL|ZAR)\b"
    r"|\b(?:euros?|pounds?|dollars?|cents?|pence|francs?|yen|yuan|kronor|kroner|krona|krone"
    r"|rupees?|zloty|pesos?|reais|rand)\b)"
)
_MONEY = re.compile(
    rf"{_CURRENCY}\s?\d"
    rf"|\d(?:[\d.,]*\d)?\s?(?:k|m|bn|million|billion|thousand)?\s?{_CURRENCY}"
    rf"|\b(?:{_NUMBER_WORDS})\s+{_CURRENCY}"
    r"|\b(?:free of charge|at no cost|no charge)\b",
    re.I,
)
_DIGITS = re.compile(r"(?<![\w.,:/-])\d+(?:[.,]\d+)*(?![\w:/-])")


_UNITS = (
    r"second|minute|hour|day|week|month|year|decade|century|centuries|time|metre|meter|"
    r"kilometre|kilometer|centimetre|centimeter|millimetre|millimeter|mile|foot|feet|inch|"
    r"yard|gram|kilogram|kg|tonne|ton|pound|ounce|litre|liter|gallon|percent|degree|watt|"
    r"kilowatt|kwh|volt|amp|euro|dollar|calorie|page|word"
)
_HOW_MANY_UNIT = re.compile(rf"\bhow many ((?:{_UNITS})(?:e?s)?)\b", re.I)


# A number right after one of these labels a thing ("lot numbers 41 to 47", "flight 217",
# "walk 12"); it does not count anything.
_LABEL_BEFORE = re.compile(
    r"\b(?:numbers?|nos?|nr|lots?|batch(?:es)?|serials?|codes?|models?|types?|pages?|rooms?"
    r"|flights?|lines?|versions?|items?|sections?|chapters?|articles?|orders?|invoices?"
    r"|polic(?:y|ies)|steps?|routes?|platforms?|gates?|seats?|walks?|apartments?|flats?"
    r"|bus(?:es)?|tracks?|exits?|junctions?|reports?|cases?|files?|accounts?|tickets?)"
    r"\s*[#:.]?\s*(?:\d+(?:[.,]\d+)*\s*(?:to|-|–|and|or|,)\s*)?$"
    r"|#\s*$",
    re.I,
)
_STREET_AFTER = re.compile(
    r"\s+[A-Z][\w'’-]+\s+(?:Road|Rd|Street|St|Lane|Avenue|Ave|Way|Drive|Place|Close|Court"
    r"|Square|Terrace|Crescent|Gardens|Hill|Row)\b"
)
# People asked for in one word and counted in another ("How many people were burned?" - "Four
# customers have reported minor burns.").
_PERSONS = {
    stem(w)
    for w in re.findall(
        r"\w+",
        "people persons person passengers crew customers clients riders users employees staff "
        "workers students pupils children kids adults members patients victims casualties "
        "residents visitors participants volunteers players pilots tenants owners drivers "
        "cyclists families men women guests attendees subjects individuals survivors",
    )
}
# Words between "how many" and what is counted ("how many more visitors").
_NOT_COUNTED = {
    "more", "fewer", "less", "new", "different", "other", "additional", "extra", "of", "the",
    "total", "separate", "individual", "exactly", "roughly", "about",
}  # fmt: skip
_HOW_MANY_WHAT = re.compile(r"\bhow many\s+((?:[\w'’-]+\s+){0,3}[\w'’-]+)", re.I)
_NONE = {"none", "nobody", "no one", "zero"}


def _counted(question: str) -> set[str]:
    """Stems of what "how many …" counts: its first two words after any "more"/"fewer"…
    ("how many photovoltaic panels": photovolta, panel); empty when a verb or a stop word
    follows ("how many were hurt")."""
    m = _HOW_MANY_WHAT.search(question)
    if m is None:
        return set()
    words = [w.lower() for w in m.group(1).split()]
    while words and words[0] in _NOT_COUNTED:
        words.pop(0)
    if not words or words[0] in STOP_WORDS:
        return set()
    return {stem(w) for w in words[:2] if w not in STOP_WORDS}


def _counts_it(sentence: str, end: int, counted: set[str]) -> bool:
    """Whether the count ending at ``end`` in ``sentence`` is of ``counted``: its word within
    the next four, or a word for people when people are counted ("six passengers", "3 of the
    8 steel bearings", "Four customers")."""
    if not counted:
        return True
    after = {stem(w.lower()) for w in _WORD.findall(sentence[end:])[:4]}
    return bool(after & counted) or bool(counted & _PERSONS and after & _PERSONS)


def holds_count(question: str, sentence: str) -> bool:
    """Whether ``sentence`` holds a count that ``question`` does not: a number word ("six",
    "nobody") or a number that is not part of a date, a year, a time or a code ("3 February
    2020", "14:30", "AR-2020-02"), nor one the question already holds ("Dash 8"). "How many
    days" (a unit of measure) needs a number of days: "within 30 days", not "14 panels"; "how
    many people" a count of people ("Four customers"), not of metres; and a number that labels
    a thing ("lot 41", "17 Millbrook Road") counts nothing."""
    unit = _HOW_MANY_UNIT.search(question)
    if unit is not None:
        word = unit.group(1).lower().rstrip("s")
        word = word[:-1] if word.endswith(("ie", "e")) and len(word) > 4 else word
        number = rf"(?:\d+(?:[.,]\d+)*|{_NUMBER_WORDS}|a|an|one|half)"
        if word == "time" and re.search(r"\b(?:once|twice|thrice)\b", sentence, re.I):
            return True
        measured = rf"\b{number}[\s-]+(?:\w+[\s-]+)?{re.escape(word)}"
        return re.search(measured, sentence, re.I) is not None
    asked = {n.replace(",", "") for n in _NUMBER.findall(question)}
    asked_words = {w.lower() for w in _WORD.findall(question)}
    counted = _counted(question)
    for m in _COUNT_WORD.finditer(sentence):
        word = m.group(0).lower()
        if word not in asked_words and (word in _NONE or _counts_it(sentence, m.end(), counted)):
            return True  # "Nobody was hurt." answers how many of anything
    for m in _DIGITS.finditer(sentence):
        number = m.group(0).replace(",", "")
        if number in asked or (
            number.isdigit() and len(number) == 4 and 1800 <= int(number) <= 2100
        ):
            continue
        before, after = sentence[: m.start()], sentence[m.end() :]
        if re.search(rf"\b{_MONTH_NAME}\s*$", before, re.I):
            continue  # "February 3", "March 2019"
        if re.match(rf"\s+{_MONTH_NAME}(?!\w)", after, re.I):
            continue  # "3 February"
        if _LABEL_BEFORE.search(before) or _STREET_AFTER.match(after):
            continue  # "lot numbers 41 to 47", "17 Millbrook Road": names, not counts
        if _counts_it(sentence, m.end(), counted):
            return True
    return False


def holds_what_is_asked(question: str, sentence: str) -> bool:
    """False when ``question`` asks for a count ("how many") or a price ("how much did ...
    cost") and ``sentence`` holds none: then it cannot be the answer, however close its
    meaning."""
    if _COUNT_Q.search(question) and not holds_count(question, sentence):
        return False
    return not (_COST_Q.search(question) and not _MONEY.search(sentence))


def answer_type_match(question: str, sentence: str) -> float:
    """1.0 when the sentence holds what the question asks for (a date for "when"...), else 0."""
    wanted = [want for cue, want in _ASKS if cue.search(question)]
    if not wanted:
        return 0.0
    return 1.0 if any(w.search(sentence) for w in wanted) else 0.0


def without_terms(question: str, terms: Sequence[str]) -> str:
    """``question`` with ``terms`` (and their possessive) taken out: what it asks about them."""
    for t in terms:
        question = re.sub(rf"\b{re.escape(t)}(?:['’]s)?(?!\w)", " ", question)
    return re.sub(r"\s+", " ", question).strip()


def score_sentences(
    question: str,
    hits: Sequence[Hit],
    embedder: Embeds,
    *,
    top: int = 5,
    named: Sequence[str] = (),
    openings: Mapping[str, str] | None = None,
) -> list[Extract]:
    """Every candidate sentence of the ``top`` best passages, best first.

    ``named``: terms of the question (:func:`named_terms`) that the caller checks at the file
    level. Its names are taken out of the question (a number stays: it also points to its
    sentence, "the boat bought for 38,500 pounds"); shared words and exact terms then count
    on the rest of the question, and meaning is
    the mean of the sentence's similarity to the whole question and to the rest. A report's
    title sentence names its subject ("…a Dash 8 operated by Fjordfly overran the runway at
    Bodo…") and otherwise outscores the sentence that answers "How deep was the snow on the
    runway at Bodo?" (extract hit rate 0.696 -> 0.826 on the facts set, 0.41 -> 0.65 on its
    later questions; benchmarks/README.md).

    ``openings``: per passage (``chunk_id``), the first sentence of its page, usually a title
    ("Product safety recall: Brisa KT-200 electric kettle."). A sentence's meaning is also read
    with it in front, and counts at the better of the two: "Four customers have reported minor
    burns." answers "How many people were burned by the kettle?" though it never says
    "kettle", and the title itself no longer wins on the subject words alone (extract hit rate
    on the ``unseen`` set 0.692 -> 0.808, SciFact unchanged; benchmarks/README.md). A page's
    opening, not the document's: a file of several papers has a title on every page.
    """
    cands: list[tuple[Hit, int, int]] = []
    for h in hits[:top]:
        cands += [(h, a, b) for a, b in _units(h.text)]
    if not cands:
        return []
    names = [t for t in named if not t[0].isdigit()]
    asked = without_terms(question, names) if names else question
    q = embedder.embed_query(asked)
    whole = embedder.embed_query(question) if names else None

    def meaning(texts: list[str]) -> npt.NDArray[np.float32]:
        vecs = embedder.embed(texts)
        sims = vecs @ q
        if whole is not None:  # about the subject the question names, and what it asks of it
            sims = (sims + vecs @ whole) / 2
        return sims

    sims = meaning([h.text[a:b] for h, a, b in cands])
    opened = [
        i
        for i, (h, a, b) in enumerate(cands)
        if (o := (openings or {}).get(h.chunk_id)) and o not in h.text[a:b]
    ]
    if opened and openings is not None:
        in_context = meaning(
            [f"{openings[cands[i][0].chunk_id]} {cands[i][0].text[cands[i][1] : cands[i][2]]}"
             for i in opened]
        )  # fmt: skip
        sims[opened] = np.maximum(sims[opened], in_context)
    words = content_words(asked)
    exact = exact_terms(asked)
    out = []
    for (h, a, b), sim in zip(cands, sims, strict=True):
        text = h.text[a:b]
        cover = len(words & content_words(text)) / len(words) if words else 0.0
        score = (
            W_SIM * float(sim)
            + W_WORDS * cover
            + W_EXACT * share_found(exact, text)
            + W_TYPE * answer_type_match(question, text)
            - (0.0 if holds_what_is_asked(question, text) else W_LACKS)
        )
        out.append(Extract(text, h.path, h.page, h.chunk_id, a, b, score, h.section))
    out.sort(key=lambda e: -e.score)
    return out


def find_extract(
    question: str,
    hits: Sequence[Hit],
    embedder: Embeds,
    *,
    bar: float = EXTRACT_BAR,
) -> Extract | None:
    """The sentence that answers ``question``, or ``None`` when none clears ``bar``."""
    ranked = score_sentences(question, hits, embedder)
    if not ranked or ranked[0].score < bar:
        return None
    return ranked[0]


def best_score(
    question: str,
    hits: Sequence[Hit],
    embedder: Embeds,
    named: Sequence[str] = (),
    openings: Mapping[str, str] | None = None,
) -> float:
    """The top sentence score (for calibrating the bar)."""
    ranked = score_sentences(question, hits, embedder, named=named, openings=openings)
    return ranked[0].score if ranked else 0.0


_ANSWER_TERM = re.compile(
    rf"\b(?i:{_MONTH})(?:,?\s+\d{{4}})?"  # a date: March 2031, 14 May
    r"|\d+(?:[.,]\d+)*(?:\s?%)?"  # a number
    r"|\b[A-Z][\w'’-]+(?:\s+[A-Z][\w'’-]+)*"  # a name
)


def answer_words(question: str, sentence: str) -> list[tuple[int, int]]:
    """Spans of ``sentence`` that answer ``question``: its numbers, dates and names that the
    question does not already hold ("March 2031" for "When does the warranty expire?").

    A sentence's first word is capitalised anyway and counts as a name only inside a longer
    one. Spans that only a space separates are merged, so a date is one span. Empty when the
    sentence's answer is not a number, date or name (a cause, a description).
    """
    asked = {w.lower() for w in _WORD.findall(question)}
    spans: list[tuple[int, int]] = []
    for m in _ANSWER_TERM.finditer(sentence):
        a, b = m.span()
        text = m.group(0)
        before = sentence[:a].rstrip()
        if text[0].isupper() and (not before or before[-1] in '.!?:"“«(\n'):
            # capitalised as the sentence's first word: a name only from its second word on
            nxt = re.search(r"\s+", text)
            if nxt is None:
                continue
            a += nxt.end()
            text = sentence[a:b]
        words = [w.lower() for w in _WORD.findall(text)]
        if all(w in asked or w in STOP_WORDS for w in words):
            continue
        if spans and not sentence[spans[-1][1] : a].strip(" ,"):
            spans[-1] = (spans[-1][0], b)
        else:
            spans.append((a, b))
    return spans
