from pathlib import Path

import pytest

from app import settings as s
from app.paths import app_paths


def _write(tmp_path: Path, text: str) -> Path:
    f = tmp_path / "settings.toml"
    f.write_text(text)
    return f


def test_roundtrip(tmp_path):
    f = _write(tmp_path, 'schema = 1\nfolders = ["/a"]\nmax_file_mb = 64\n[ui]\nwelcomed = true\n')
    st = s.load(f)
    assert st.folders == ["/a"] and st.max_file_mb == 64 and st.ui == {"welcomed": True}
    st.add_folders([tmp_path])
    s.save(st, f)
    again = s.load(f)
    assert again.folders == ["/a", str(tmp_path)] and again.max_file_mb == 64


def _error(f: Path) -> s.SettingsError:
    before = f.read_bytes()
    with pytest.raises(s.SettingsError) as info:
        s.load(f)
    assert f.read_bytes() == before  # a file that did not load is never rewritten or moved
    assert list(f.parent.iterdir()) == [f]
    return info.value


def test_folders_as_a_string_is_rejected_with_key_line_and_expectation(tmp_path):
    f = _write(tmp_path, 'schema = 1\n# my folders\nfolders = "/home/me/Docs"\n')
    e = _error(f)
    assert [(p.key, p.line) for p in e.problems] == [("folders", 3)]
    assert "list of strings" in str(e) and "line 3" in str(e) and "folders" in str(e)
    assert str(f) in str(e)


def test_wrong_type_unknown_key_and_impossible_value_are_all_named(tmp_path):
    f = _write(
        tmp_path,
        'max_file_mb = "big"\nworkers = -2\ntheme = "purple"\nfolderz = ["/a"]\n'
        "launch_at_login = 1\n",
    )
    e = _error(f)
    got = {p.key: p for p in e.problems}
    assert set(got) == {"max_file_mb", "workers", "theme", "folderz", "launch_at_login"}
    assert [got[k].line for k in ("max_file_mb", "workers", "theme", "folderz")] == [1, 2, 3, 4]
    assert "whole number" in got["max_file_mb"].expected
    assert "0 or more" in got["workers"].expected
    assert "light" in got["theme"].expected and "dark" in got["theme"].expected
    assert "unknown" in got["folderz"].expected and "folders" in got["folderz"].expected
    assert "true or false" in got["launch_at_login"].expected


def test_bool_is_not_a_number_and_list_items_are_checked(tmp_path):
    e = _error(_write(tmp_path, 'max_pages = true\nignore = ["*.log", 3]\n'))
    assert {p.key for p in e.problems} == {"max_pages", "ignore"}


@pytest.mark.parametrize("value", ['"auto"', '"off"', '"12"'])
def test_gpu_layers_accepts_its_forms(tmp_path, value):
    assert s.load(_write(tmp_path, f"gpu_layers = {value}\n")).gpu_layers == value.strip('"')


def test_gpu_layers_rejects_other_words(tmp_path):
    e = _error(_write(tmp_path, 'gpu_layers = "lots"\n'))
    assert e.problems[0].key == "gpu_layers" and "auto" in e.problems[0].expected


@pytest.mark.parametrize("value", ["auto", "cpu", "cuda", "directml", "coreml"])
def test_embed_device_accepts_the_devices(tmp_path, value):
    assert s.load(_write(tmp_path, f'embed_device = "{value}"\n')).embed_device == value


def test_embed_device_rejects_other_words(tmp_path):
    e = _error(_write(tmp_path, 'embed_device = "gpu"\n'))
    assert e.problems[0].key == "embed_device" and "directml" in e.problems[0].expected
    assert s.Settings().embed_device == "auto"


def test_broken_toml_is_an_error_with_its_line_and_the_file_is_left_alone(tmp_path):
    e = _error(_write(tmp_path, 'theme = "dark"\nfolders = [unclosed\n'))
    assert e.problems[0].line == 2


def test_newer_schema_is_refused(tmp_path):
    e = _error(_write(tmp_path, "schema = 99\n"))
    assert e.problems[0].key == "schema"


def test_missing_file_gives_defaults(tmp_path):
    assert s.load(tmp_path / "none.toml") == s.Settings()


def test_findling_home_relocates_everything(tmp_path, monkeypatch):
    monkeypatch.setenv("FINDLING_HOME", str(tmp_path / "h"))
    p = app_paths()
    for d in (p.config_dir, p.index_dir, p.models_dir, p.log_dir):
        assert Path(tmp_path / "h") in d.parents


def test_gpu_layers_values():
    assert s.Settings(gpu_layers="auto").gpu_layers_value is None
    assert s.Settings(gpu_layers="off").gpu_layers_value == 0
    assert s.Settings(gpu_layers="12").gpu_layers_value == 12
