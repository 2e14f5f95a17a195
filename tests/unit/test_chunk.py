import itertools

from indexer.chunk import Chunker, ChunkerConfig
from indexer.extract.document import Block, Document, Segment


def _doc_pages(pages):
    return Document(
        tuple(Segment(tuple(Block(p) for p in page), page=i + 1) for i, page in enumerate(pages)),
        paged=True,
    )


def test_chunks_fit_model_limit_including_special_tokens(embedder):
    long_para = " ".join(
        f"Sentence number {i} talks about solar inverters and batteries." for i in range(200)
    )
    doc = Document((Segment((Block("Very Long Heading " * 5, level=1), Block(long_para))),))
    chunks = Chunker(embedder.count_tokens, ChunkerConfig(max_tokens=256)).chunks(doc)
    assert len(chunks) > 5
    for ch in chunks:
        assert embedder.count_tokens(ch.embed_text) <= 256
        assert ch.heading and ch.heading.startswith("Very Long Heading")


def test_chunks_never_span_pages_and_keep_page_numbers(embedder):
    pages = [
        [f"Page one paragraph {i} about apples." for i in range(3)],
        [f"Page two paragraph {i} about pears." for i in range(3)],
    ]
    chunks = Chunker(embedder.count_tokens).chunks(_doc_pages(pages))
    assert {c.page for c in chunks} == {1, 2}
    for c in chunks:
        assert ("apples" in c.text) != ("pears" in c.text)


def test_offsets_point_into_segment_text(embedder):
    seg = Segment((Block("Alpha beta gamma."), Block("Delta epsilon zeta.")), page=1)
    chunks = Chunker(embedder.count_tokens).chunks(Document((seg,), paged=True))
    assert len(chunks) == 1
    c = chunks[0]
    assert " ".join(seg.text[c.start : c.end].split()) == c.text


def test_headings_travel_and_overlap_repeats_a_sentence(embedder):
    sentences = [
        f"Fact {i} is that the pump number {i} needs oiling every {i} weeks." for i in range(60)
    ]
    blocks = (Block("Maintenance", level=1), Block("Pumps", level=2), Block(" ".join(sentences)))
    chunks = Chunker(embedder.count_tokens, ChunkerConfig(overlap_tokens=40)).chunks(
        Document((Segment(blocks),))
    )
    assert len(chunks) >= 3
    assert all(c.heading == "Maintenance > Pumps" for c in chunks)
    for a, b in itertools.pairwise(chunks):
        last_sentence = a.text.rsplit(". ", 1)[-1]
        assert last_sentence.rstrip(".") in b.text  # overlap carried forward
    assert chunks[-1].text.endswith("every 59 weeks.")


def test_giant_word_without_spaces_is_split(embedder):
    doc = Document((Segment((Block("x" * 20000),)),))
    chunks = Chunker(embedder.count_tokens).chunks(doc)
    assert chunks
    assert all(embedder.count_tokens(c.embed_text) <= 256 for c in chunks)
