"""The chunk store: chunks carry a checksum; a damaged or rewritten chunk is solved again, never a traceback.

Clearing a run's chunks removes only the store's own files; a chunk that cannot be written names its file.
"""

from __future__ import annotations

import errno
import warnings

import numpy as np
import pytest

from harness.adapter import SteadyStateResult
from harness.errors import ChunkWarning
from harness.runner import ChunkStore, clear_chunks


@pytest.fixture
def result() -> SteadyStateResult:
    rng = np.random.default_rng(7)
    status = np.zeros(12, dtype=np.int8)
    status[[3, 9]] = [2, 3]
    message = np.array(["" if s == 0 else f"row {i} failed" for i, s in enumerate(status)], dtype=object)
    return SteadyStateResult(rng.lognormal(size=(12, 3)), rng.normal(size=(12, 2)), status, message,
                             ("mic", "enz", "soc"), ("soc_total", "mic_fraction"))


def _same(a: SteadyStateResult, b: SteadyStateResult) -> bool:
    return (np.array_equal(a.pools, b.pools) and np.array_equal(a.outputs, b.outputs)
            and np.array_equal(a.status, b.status) and a.status.dtype == b.status.dtype
            and list(a.message) == list(b.message) and a.pool_names == b.pool_names
            and a.output_names == b.output_names)


def _contents(path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as data:
        return {name: data[name] for name in data.files}


def test_stored_chunk_loads_unchanged_without_warning(tmp_path, result):
    store = ChunkStore(tmp_path)
    store.save(4, "inputs", result)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loaded = store.load(4, "inputs")
        assert loaded is not None and _same(loaded, result)
        assert store.load(5, "inputs") is None  # not stored
        assert store.load(4, "other inputs") is None  # stored for other inputs: silently solved again


def test_forged_values_are_rejected(tmp_path, result):
    store = ChunkStore(tmp_path)
    store.save(0, "inputs", result)
    path = tmp_path / "000000.npz"
    contents = _contents(path)
    np.savez(path, **{**contents, "pools": contents["pools"] + 1e-12})  # right digest, old checksum
    with pytest.warns(ChunkWarning, match=r"000000\.npz.*do not match their checksum"):
        assert store.load(0, "inputs") is None


def test_forged_digest_is_rejected(tmp_path, result):
    """A chunk of other inputs relabelled with the digest of the inputs asked for."""
    store = ChunkStore(tmp_path)
    store.save(0, "old inputs", result)
    path = tmp_path / "000000.npz"
    np.savez(path, **{**_contents(path), "digest": np.array("new inputs")})
    with pytest.warns(ChunkWarning, match="do not match their checksum"):
        assert store.load(0, "new inputs") is None


def test_chunk_without_checksum_is_solved_again(tmp_path, result):
    store = ChunkStore(tmp_path)
    store.save(0, "inputs", result)
    path = tmp_path / "000000.npz"
    np.savez(path, **{k: v for k, v in _contents(path).items() if k != "checksum"})
    with pytest.warns(ChunkWarning, match="without a checksum"):
        assert store.load(0, "inputs") is None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")  # what a run uses: the warning is shown once, not once per chunk
        for _ in range(3):
            assert store.load(0, "inputs") is None
    assert len(caught) <= 1


def test_every_truncation_and_byte_flip_is_caught(tmp_path, result):
    """No damage to the file raises: the chunk is either rejected with a warning or read back unchanged."""
    store = ChunkStore(tmp_path)
    store.save(0, "inputs", result)
    path = tmp_path / "000000.npz"
    original = path.read_bytes()
    damaged = [original[:n] for n in range(len(original))]
    damaged += [original[:i] + bytes([original[i] ^ mask]) + original[i + 1:]
                for i in range(len(original)) for mask in (0x01, 0x80)]
    rejected = 0
    for data in damaged:
        path.write_bytes(data)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            loaded = store.load(0, "inputs")
        if loaded is None:
            assert [w.category for w in caught] == [ChunkWarning]
            assert "000000.npz" in str(caught[0].message)
            rejected += 1
        else:  # a byte the contents do not depend on (zip timestamps, padding)
            assert _same(loaded, result)
    assert rejected > 0.8 * len(damaged)


def test_unreadable_file_is_solved_again(tmp_path, result):
    store = ChunkStore(tmp_path)
    (tmp_path / "000000.npz").write_bytes(b"")
    (tmp_path / "000001.npz").write_bytes(b"not a chunk at all")
    (tmp_path / "000002.npz").mkdir()
    for index in range(3):
        with pytest.warns(ChunkWarning, match=f"00000{index}.npz.*cannot be read"):
            assert store.load(index, "inputs") is None
    store.save(0, "inputs", result)  # re-solved chunks replace the damaged ones
    loaded = store.load(0, "inputs")
    assert loaded is not None and _same(loaded, result)


def test_clear_chunks_removes_only_the_stores_own_files(tmp_path, result):
    chunks = tmp_path / "chunks"
    ours, emptied = chunks / "0123456789abcdef", chunks / "fedcba9876543210"
    ChunkStore(ours).save(0, "inputs", result)
    ChunkStore(emptied).save(0, "inputs", result)
    (ours / ".tmp-abcd1234-000001.npz").write_bytes(b"half written")
    (ours / "notes.txt").write_text("mine")
    (chunks / "mine").mkdir()
    (chunks / "mine" / "000000.npz").write_text("mine")
    (chunks / "important.txt").write_text("mine")
    assert clear_chunks(chunks, keep=True) == 1  # --resume: only the temporary goes
    assert (ours / "000000.npz").exists() and not (ours / ".tmp-abcd1234-000001.npz").exists()
    assert clear_chunks(chunks) == 2
    assert sorted(p.relative_to(chunks).as_posix() for p in chunks.rglob("*")) == [
        "0123456789abcdef", "0123456789abcdef/notes.txt", "important.txt", "mine", "mine/000000.npz"]


def test_a_chunk_that_cannot_be_written_names_its_file_and_leaves_no_temporary(tmp_path, result, monkeypatch):
    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(np, "savez", disk_full)
    with pytest.raises(OSError) as caught:
        ChunkStore(tmp_path).save(3, "inputs", result)
    assert caught.value.errno == errno.ENOSPC and caught.value.filename == str(tmp_path / "000003.npz")
    assert list(tmp_path.iterdir()) == []
