"""indexer.gate.Gate: counted holds, a wait that blocks while held and wakes on release/stop."""

import threading
import time

import pytest

from indexer.gate import Gate

pytestmark = pytest.mark.timeout(20)


def _waiter(gate: Gate, stop: threading.Event, out: list[bool]) -> threading.Thread:
    t = threading.Thread(target=lambda: out.append(gate.wait(stop)), daemon=True)
    t.start()
    return t


def _until(cond, seconds: float = 5.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not cond() and time.monotonic() < deadline:
        time.sleep(0.01)
    return bool(cond())


def test_open_gate_does_not_block():
    gate, stop = Gate(), threading.Event()
    assert gate.wait(stop) is False
    stop.set()
    assert gate.wait(stop) is True


def test_wait_blocks_until_the_last_hold_is_released():
    gate, stop, out = Gate(), threading.Event(), []
    gate.hold()
    gate.hold()
    t = _waiter(gate, stop, out)
    assert _until(lambda: gate.waiting == 1)
    gate.release()
    time.sleep(0.3)
    assert t.is_alive() and not out  # one hold is still outstanding
    gate.release()
    t.join(5)
    assert out == [False] and gate.waiting == 0 and not gate.held


def test_stop_ends_a_wait_while_held():
    gate, stop, out = Gate(), threading.Event(), []
    with gate.holding():
        t = _waiter(gate, stop, out)
        assert _until(lambda: gate.waiting == 1)
        stop.set()
        t.join(5)
        assert out == [True]
        assert gate.held
    assert not gate.held


def test_release_without_hold_is_harmless(caplog):
    gate = Gate()
    gate.release()
    assert not gate.held
    assert "more often than held" in caplog.text
    gate.hold()
    assert gate.held
