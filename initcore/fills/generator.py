"""Seeds and the stateful Generator.

A stream is a 64-bit Philox key plus a 64-bit position. Every draw uses its own
position, so element i of a draw depends only on (key, position, i).
"""
import numbers
import threading

import numpy as np

from ..common.validation import integer

__all__ = ["Generator", "stream_for"]

# Children per spawn call: each is an object, so 10**12 would run for hours
# and exhaust memory; more children come from more calls.
MAX_SPAWN = 2**20


def _seed_sequence(seed):
    if seed is None or isinstance(seed, np.random.SeedSequence):
        return np.random.SeedSequence(seed) if seed is None else seed
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, numbers.Integral):
        raise TypeError(
            "seed must be None, a non-negative int, a numpy.random.SeedSequence or an "
            f"initcore.Generator, got {seed!r} ({type(seed).__name__})"
        )
    if seed < 0:
        raise ValueError(f"seed must be non-negative, got {seed}")
    return np.random.SeedSequence(int(seed))


class Generator:
    """A seeded, stateful stream of Philox4x32-10 random numbers.

    Every initializer is also a method of a Generator (``gen.normal(shape)``).
    Each call takes the next position of the stream, so successive calls give
    independent arrays, and the same seed replays the same sequence of arrays,
    bit for bit, whatever the number of threads.

    Parameters
    ----------
    seed : None, int or numpy.random.SeedSequence, optional
        Entropy for the key. ``None`` draws fresh entropy from the OS.

    See Also
    --------
    initialize : any initializer by name.

    Notes
    -----
    Philox4x32-10 is the counter-based generator of Salmon et al. (2011); the
    key is two 32-bit words from ``SeedSequence.generate_state``.

    References
    ----------
    .. [1] J. K. Salmon, M. A. Moraes, R. O. Dror and D. E. Shaw, "Parallel
       random numbers: as easy as 1, 2, 3", SC 2011.

    Examples
    --------
    >>> import initcore
    >>> gen = initcore.Generator(42)
    >>> w1 = gen.kaiming_normal((256, 128))
    >>> w2 = gen.kaiming_normal((256, 128))   # a new draw
    >>> bool((w1 == initcore.Generator(42).kaiming_normal((256, 128))).all())
    True
    """

    def __init__(self, seed=None):
        if isinstance(seed, Generator):
            raise TypeError("seed is already an initcore.Generator; use it directly or call its spawn()")
        self._seed_sequence = _seed_sequence(seed)
        words = self._seed_sequence.generate_state(2, np.uint32)
        self._key = int(words[0]) | int(words[1]) << 32
        self._position = 0
        self._lock = threading.Lock()

    @property
    def seed_sequence(self):
        """The numpy.random.SeedSequence the key came from."""
        return self._seed_sequence

    @property
    def position(self):
        """How many stream positions earlier calls have taken."""
        return self._position

    def spawn(self, n):
        """`n` independent child Generators (via SeedSequence.spawn).

        Parameters
        ----------
        n : int
            From 0 to 2**20 per call. Each call continues where the last one
            stopped, so more children come from more calls.

        Returns
        -------
        list of Generator

        Raises
        ------
        ValueError
            If n is not an integer in [0, 2**20].
        """
        if isinstance(n, (bool, np.bool_)) or not isinstance(n, numbers.Integral) or n < 0:
            raise ValueError(f"n must be a non-negative integer, got {n!r}")
        if n > MAX_SPAWN:
            raise ValueError(f"n={n} is more than 2**20 = {MAX_SPAWN} children per spawn call; "
                             "call spawn again for more")
        return [Generator(child) for child in self._seed_sequence.spawn(int(n))]

    def take(self, count=1):
        """Reserve `count` stream positions; returns (key, first position).

        Raises
        ------
        TypeError
            If count is not an integer.
        ValueError
            If count is negative or would move the stream past its 2**64
            positions.
        """
        count = integer("count", count, low=0)
        with self._lock:
            position = self._position
            if position + count > 2**64:
                raise ValueError(f"count={count} would move the stream past its 2**64 positions "
                                 f"(at position {position})")
            self._position += count
        return self._key, position

    def __repr__(self):
        return f"initcore.Generator(entropy={self._seed_sequence.entropy}, position={self._position})"


def check_seed(seed):
    """Raise as a random initializer would for a bad `seed`, drawing nothing
    (for the initializers that need no random numbers)."""
    if seed is not None and not isinstance(seed, Generator):
        _seed_sequence(seed)


def as_generator(seed):
    """`seed` itself when it is a Generator (draws continue its stream),
    else a new Generator from it."""
    return seed if isinstance(seed, Generator) else Generator(seed)


def stream_for(seed, count=1):
    """(key, position) for a draw: from the Generator itself, or a new stream."""
    return as_generator(seed).take(count)
