"""New format families: CSV/TSV, source code with line numbers, encoding detection."""

import pytest

from indexer.errors import CorruptError
from indexer.extract import extract

RUSSIAN = (
    "Иван Петрович,Москва\nПётр Сергеевич Иванов,Санкт-Петербург\nМария Александровна,Новосибирск\n"
)
CHINESE = "这是一个用于测试编码检测的中文文本文件。我们希望它能被正确读取。" * 3
JAPANESE = "これは文字コード検出のための日本語のテキストです。正しく読めるはずです。" * 3


def test_csv_rows_carry_their_header_and_koi8r_is_detected(tmp_path):
    p = tmp_path / "people.csv"
    p.write_bytes(("name,city\n" + RUSSIAN * 4).encode("koi8_r"))
    seg = extract(p).segments[0]
    assert seg.heading == "name | city"
    assert seg.blocks[1].text == "name: Пётр Сергеевич Иванов; city: Санкт-Петербург"


def test_tsv_without_header_keeps_cells(tmp_path):
    p = tmp_path / "n.tsv"
    p.write_text("1\t2.5\tred\n3\t4\tblue\n", encoding="utf-8")
    seg = extract(p).segments[0]
    assert seg.heading is None
    assert [b.text for b in seg.blocks] == ["1 | 2.5 | red", "3 | 4 | blue"]


@pytest.mark.parametrize("encoding", ["gbk", "shift_jis"])
def test_text_encoding_detected(tmp_path, encoding):
    text = (
        CHINESE
        if encoding == "gbk"
        else "これは文字コード検出のための日本語のテキストです。正しく読めるはずです。" * 3
    )
    p = tmp_path / "t.txt"
    p.write_bytes(text.encode(encoding))
    assert extract(p).segments[0].text == text


def test_binary_garbage_with_text_extension_is_corrupt(tmp_path):
    for name in ("garbage.csv", "garbage.py", "garbage.txt"):
        p = tmp_path / name
        p.write_bytes(bytes(range(256)) * 40)
        with pytest.raises(CorruptError, match="binary data"):
            extract(p)


def test_code_split_at_definitions_with_line_numbers(tmp_path):
    p = tmp_path / "mod.py"
    p.write_text(
        "import os\n\n\ndef parse(x):\n    return x\n\n\n@dataclass\nclass Foo:\n"
        "    def m(self):\n        pass\n"
    )
    segs = extract(p).segments
    assert [s.heading for s in segs] == ["line 1", "parse · line 4", "Foo · line 8"]
    assert segs[2].text.startswith("@dataclass\nclass Foo:\n    def m")


def test_config_tables_and_long_files_split(tmp_path):
    p = tmp_path / "c.toml"
    p.write_text('[tool.a]\nx = 1\n\n[tool.b]\ny = "two"\n')
    assert [s.heading for s in extract(p).segments] == ["tool.a · line 1", "tool.b · line 4"]
    js = tmp_path / "big.js"
    js.write_text("".join(f"var v{i} = {i};\n" for i in range(200)))
    heads = [s.heading for s in extract(js).segments]
    assert heads == ["line 1", "line 81", "line 161"]


def test_window_type_filter_covers_every_new_suffix():
    from app.gui.filters import TYPES
    from indexer.extract import code, image, mail, ooxml, rtf, table

    offered = {t for _, group in TYPES for t in group}
    for module in (code, image, mail, ooxml, rtf, table):
        assert {s.lstrip(".") for s in module.SUFFIXES} <= offered, module.__name__
