"""A dependency-free progress bar on stderr."""
import sys
import time

__all__ = ["Progress"]


class Progress:
    """Counts steps and draws ``label [#####     ] 12/50 1.2s ETA 3.4s`` on
    stderr; the ETA (the mean time per step so far times the steps left) is
    shown from the first step until the last.

    Parameters
    ----------
    total : int
    label : str
    enabled : bool or None
        None shows the bar only when stderr is a terminal, and only once the
        work has run for `delay` seconds, so quick runs stay silent.
    delay : float
    """

    def __init__(self, total, label="", enabled=None, delay=1.0, stream=None):
        self.total = max(int(total), 1)
        self.label = label
        self.stream = sys.stderr if stream is None else stream
        if enabled is None:
            isatty = getattr(self.stream, "isatty", None)
            enabled = bool(isatty and isatty())
        self.enabled = enabled
        self.delay = delay
        self.start = time.perf_counter()
        self.count = 0
        self.drawn = False

    def step(self, n=1):
        self.count += n
        elapsed = time.perf_counter() - self.start
        if self.enabled and (self.drawn or elapsed >= self.delay):
            filled = min(int(30 * self.count / self.total), 30)
            left = max(self.total - self.count, 0)
            eta = f" ETA {elapsed / self.count * left:.1f}s" if self.count and left else ""
            self.stream.write(f"\r{self.label} [{'#' * filled}{' ' * (30 - filled)}] "
                              f"{self.count}/{self.total} {elapsed:.1f}s{eta}   ")
            self.stream.flush()
            self.drawn = True

    def close(self):
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
