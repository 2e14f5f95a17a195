"""The indexer's public surface: what the front ends import, loaded on first use."""

import subprocess
import sys

import pytest

import indexer


@pytest.mark.parametrize("name", indexer.__all__)
def test_every_exported_name_resolves_to_its_module(name):
    value = getattr(indexer, name)
    assert getattr(value, "__name__", name) == name
    assert name in dir(indexer)


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        indexer.Nope  # noqa: B018


def test_importing_a_light_module_does_not_load_the_store():
    code = (
        "import sys, indexer.state, indexer.layout, indexer.states\n"
        "print('lancedb' in sys.modules, 'indexer.pipeline' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
