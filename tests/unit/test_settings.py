from pathlib import Path

from app import settings as s
from app.paths import app_paths


def test_roundtrip_keeps_unknown_keys(tmp_path):
    f = tmp_path / "settings.toml"
    f.write_text('schema = 1\nfolders = ["/a"]\nfuture_option = 3\n')
    st = s.load(f)
    assert st.folders == ["/a"] and st.extra == {"future_option": 3}
    st.add_folders([tmp_path])
    s.save(st, f)
    again = s.load(f)
    assert again.folders == ["/a", str(tmp_path)] and again.extra == {"future_option": 3}


def test_broken_file_gives_defaults_and_is_kept(tmp_path):
    f = tmp_path / "settings.toml"
    f.write_text("folders = [unclosed")
    st = s.load(f)
    assert st.folders == []
    assert (tmp_path / "settings.toml.broken").exists()


def test_findling_home_relocates_everything(tmp_path, monkeypatch):
    monkeypatch.setenv("FINDLING_HOME", str(tmp_path / "h"))
    p = app_paths()
    for d in (p.config_dir, p.index_dir, p.models_dir, p.log_dir):
        assert Path(tmp_path / "h") in d.parents


def test_gpu_layers_values():
    assert s.Settings(gpu_layers="auto").gpu_layers_value is None
    assert s.Settings(gpu_layers="off").gpu_layers_value == 0
    assert s.Settings(gpu_layers="12").gpu_layers_value == 12
