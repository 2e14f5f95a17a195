import pytest

from indexer.errors import IndexLockedError
from indexer.lock import WriterLock, holder, submit_request, take_requests


def test_second_writer_fails_at_once_and_sees_holder(tmp_path):
    a = WriterLock(tmp_path, accepts_requests=True, role="watch")
    a.acquire()
    try:
        with pytest.raises(IndexLockedError, match="watch"):
            WriterLock(tmp_path, role="index").acquire()
        info = holder(tmp_path)
        assert info and info["accepts_requests"] is True
    finally:
        a.release()
    assert holder(tmp_path) is None
    with WriterLock(tmp_path):
        pass


def test_request_spool_is_fifo(tmp_path):
    submit_request(tmp_path, {"op": "sync", "n": 1})
    submit_request(tmp_path, {"op": "sync", "n": 2})
    assert [r["n"] for r in take_requests(tmp_path)] == [1, 2]
    assert take_requests(tmp_path) == []
