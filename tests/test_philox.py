"""Philox4x32-10 against the Random123 known-answer vectors.

The vectors are those published with Random123 (Salmon et al., SC 2011;
file ``kat_vectors`` of the Random123 distribution), counter words c0..c3,
key words k0, k1.
"""
import pytest

from initcore.fills import _random

M32 = 0xFFFFFFFF

KAT = [
    ((0x00000000, 0x00000000, 0x00000000, 0x00000000), (0x00000000, 0x00000000),
     (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    ((M32, M32, M32, M32), (M32, M32),
     (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0),
     (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1)),
]


@pytest.mark.parametrize("counter, key, expected", KAT, ids=["zeros", "ones", "pi"])
def test_known_answer(counter, key, expected):
    got = _random.philox4x32_10(counter, key)
    assert tuple(int(w) for w in got) == expected, [hex(w) for w in got]


def _philox_reference(counter, key):
    """Philox4x32-10 written out from the paper (Salmon et al. 2011, Fig. 2)."""
    m0, m1, w0, w1 = 0xD2511F53, 0xCD9E8D57, 0x9E3779B9, 0xBB67AE85
    x0, x1, x2, x3 = counter
    k0, k1 = key
    for _ in range(10):
        p0, p1 = m0 * x0, m1 * x2
        x0, x1, x2, x3 = ((p1 >> 32) ^ x1 ^ k0) & M32, p1 & M32, ((p0 >> 32) ^ x3 ^ k1) & M32, p0 & M32
        k0, k1 = (k0 + w0) & M32, (k1 + w1) & M32
    return x0, x1, x2, x3


def test_reference_reproduces_known_answers():
    """The pure-Python reference below is itself validated on the KAT vectors."""
    for counter, key, expected in KAT:
        assert _philox_reference(counter, key) == expected


def test_random_counters_and_keys_match_reference(rng):
    """200 random (counter, key) pairs: every word of every counter position
    matters, so this catches a word swapped between counter and key."""
    for _ in range(200):
        counter = tuple(int(v) for v in rng.integers(0, 2**32, size=4, dtype="uint64"))
        key = tuple(int(v) for v in rng.integers(0, 2**32, size=2, dtype="uint64"))
        assert tuple(int(w) for w in _random.philox4x32_10(counter, key)) == _philox_reference(counter, key)


# ----------------------------------------------------------------------------
# The SIMD paths of the block generator (portable, AVX2, AVX-512) must give the
# words of the reference, counter by counter. Counter layout (philox.h):
# words 0-1 = 64-bit block index, words 2-3 = 64-bit stream position.

PATHS = getattr(_random, "PHILOX_PATHS", ())
FIRSTS = [0, 1, 2**32 - 5, 2**32, 2**63 + 17, 2**64 - 3]  # carries into word 1, wrap at 2^64


def _block_reference(key, position, first, count):
    k = (key & M32, key >> 32)
    words = [[], [], [], []]
    for j in range(count):
        idx = (first + j) % 2**64
        out = _philox_reference((idx & M32, idx >> 32, position & M32, position >> 32), k)
        for r in range(4):
            words[r].append(out[r])
    return words


@pytest.mark.parametrize("path", PATHS or ["(none)"])
def test_simd_paths_match_reference(path, rng):
    if not PATHS:
        pytest.skip("this build exposes no per-path Philox hook")
    probe = _random.philox_block_words(1, 2, 3, path)
    if probe is None:
        pytest.skip(f"this CPU lacks the {path} path")
    count = len(probe[0])
    for first in FIRSTS:
        key = int(rng.integers(0, 2**63)) * 2 + int(rng.integers(0, 2))
        position = int(rng.integers(0, 2**63))
        got = _random.philox_block_words(key, position, first, path)
        assert [list(map(int, row)) for row in got] == _block_reference(key, position, first, count), (path, first)
