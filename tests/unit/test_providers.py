"""Execution provider choice (pure logic, the runtime's provider list replaced)."""

from __future__ import annotations

import logging

import onnxruntime as ort
import pytest

from models.providers import CPU, DEVICES, choose_providers

CUDA, DML, COREML = "CUDAExecutionProvider", "DmlExecutionProvider", "CoreMLExecutionProvider"


@pytest.fixture
def have(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Replace onnxruntime's list of compiled-in providers."""

    def set_(*providers: str) -> None:
        monkeypatch.setattr(ort, "get_available_providers", lambda: list(providers))

    return set_


def test_auto_puts_every_available_accelerator_before_the_cpu(have) -> None:  # type: ignore[no-untyped-def]
    have("TensorrtExecutionProvider", CUDA, CPU)
    assert choose_providers("auto") == [CUDA, CPU]
    have(COREML, CPU)
    assert choose_providers("auto") == [COREML, CPU]
    have(DML, CUDA, CPU)
    assert choose_providers("auto") == [CUDA, DML, CPU]


def test_auto_on_a_cpu_build_is_the_cpu_only(have) -> None:  # type: ignore[no-untyped-def]
    have("AzureExecutionProvider", CPU)
    assert choose_providers("auto") == [CPU]


def test_cpu_never_tries_an_accelerator(have) -> None:  # type: ignore[no-untyped-def]
    have(CUDA, DML, CPU)
    assert choose_providers("cpu") == [CPU]


def test_explicit_available_device_comes_first_then_the_cpu(have) -> None:  # type: ignore[no-untyped-def]
    have(CUDA, DML, COREML, CPU)
    assert choose_providers("directml") == [DML, CPU]
    assert choose_providers("coreml") == [COREML, CPU]
    assert choose_providers("cuda") == [CUDA, CPU]


def test_explicit_unavailable_device_falls_back_with_one_warning(
    have,  # type: ignore[no-untyped-def]
    caplog: pytest.LogCaptureFixture,
) -> None:
    have(CPU)
    with caplog.at_level(logging.WARNING, logger="models.providers"):
        assert choose_providers("cuda") == [CPU]
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1, lines
    assert "CUDAExecutionProvider" in lines[0] and "CPU" in lines[0]


def test_an_explicit_list_is_used_over_the_runtime() -> None:
    assert choose_providers("auto", [DML, CPU]) == [DML, CPU]
    assert choose_providers("cuda", [DML, CPU]) == [CPU]


def test_unknown_device_is_an_error() -> None:
    with pytest.raises(ValueError, match="gpu"):
        choose_providers("gpu", [CPU])
    assert set(DEVICES) == {"auto", "cpu", "cuda", "directml", "coreml"}
