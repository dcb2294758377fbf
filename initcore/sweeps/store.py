"""A sweep's results on disk: a directory of Parquet files, one per batch of
finished points, each written under a temporary name and renamed into place,
so that a file either holds whole rows or is not there.

pyarrow is an optional dependency (``pip install "initcore[sweep]"``),
imported when a store is opened.
"""
import os
import uuid
import warnings

import numpy as np

from .grid import PARAMETERS, REALS, point_key
from .tasks import RESULTS

__all__ = ["Store", "check_output", "read_sweep"]

_INSTALL = 'pip install "initcore[sweep]"'
_PREFIX, _SUFFIX, _TEMP = "part-", ".parquet", ".tmp-"
# Parquet column types of the config: every parameter, the task and its version.
_CONFIG_TYPES = {"task": "string", "version": "int64", **{
    name: "string" if isinstance(default, str) or name == "init" else "double" if name in REALS else "int64"
    for name, (_, default) in PARAMETERS.items()}}


def _pyarrow():
    try:
        import pyarrow
        import pyarrow.compute  # noqa: F401  (SweepRun.table filters with it)
        import pyarrow.parquet
    except ImportError as exc:
        raise ImportError(f"a sweep stores its results with pyarrow, an optional dependency of initcore: "
                          f"{_INSTALL}") from exc
    return pyarrow, pyarrow.parquet


def _schema(pa):
    types = {"string": pa.string(), "int64": pa.int64(), "double": pa.float64(), "bool": pa.bool_(),
             "list": pa.list_(pa.float64())}
    fields = [pa.field("key", pa.string(), nullable=False)]
    fields += [pa.field(name, types[kind]) for name, kind in _CONFIG_TYPES.items()]
    results = {}
    for columns in RESULTS.values():
        results.update(columns)
    fields += [pa.field(name, types[kind]) for name, kind in results.items()]
    return pa.schema(fields)


def check_output(out):
    """Refuses, before anything runs, an output folder that cannot hold the
    results: a path that is a file, or a folder that cannot be created or
    written (tried by creating and removing a file in it).

    Returns
    -------
    str
        The folder's absolute path, created with its parents.

    Raises
    ------
    ValueError
        An empty path.
    OSError
        A path that is a file, or a folder without permission to write,
        naming the path and why.
    """
    if not isinstance(out, (str, os.PathLike)) or not str(out).strip():
        raise ValueError(f"out must name a folder, got {out!r}")
    path = os.path.abspath(out)
    if os.path.exists(path) and not os.path.isdir(path):
        raise NotADirectoryError(f"the sweep output {str(out)!r} is a file, not a folder")
    probe = os.path.join(path, f"{_TEMP}probe-{uuid.uuid4().hex}")
    try:
        os.makedirs(path, exist_ok=True)
        with open(probe, "wb"):
            pass
        os.remove(probe)
    except OSError as exc:
        raise PermissionError(f"cannot write the sweep output in {str(out)!r}: "
                              f"{exc.strerror or exc}") from None
    return path


def _lock(path, out):
    """An exclusive lock on the folder `path`, held while the returned file
    is open (POSIX flock; where there is none, no lock)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        return None
    handle = open(os.path.join(path, ".lock"), "a")
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        raise RuntimeError(f"another sweep is writing in {str(out)!r}; wait for it, or write elsewhere") from None
    return handle


def _config_of(row):
    """The canonical config that a stored row was computed from."""
    task = row["task"]
    names = [name for name, (tasks, _) in PARAMETERS.items() if task in tasks]
    return {"task": task, "version": row["version"], **{name: row[name] for name in names}}


class Store:
    """The Parquet files of one sweep folder.

    Opening a store reads every finished file and checks it: a file that
    Parquet cannot read (cut short by a crash, or damaged) or whose rows do
    not hash to their keys is reported and left out, so its points count as
    not done. The sweep that writes the folder (``write=True``) holds a lock
    on it (a second sweep into the same folder is refused), sets damaged
    files aside as ``*.corrupt`` so that their points run again, and removes
    the temporary files of an interrupted write. A reader changes nothing,
    so the results can be read while a sweep runs.

    Parameters
    ----------
    out : str or path-like
        The folder; for writing, checked (and created) by `check_output`.
    write : bool

    Attributes
    ----------
    keys : set of str
        The keys of the stored points.
    corrupt : list of str
        The files found damaged.

    Raises
    ------
    RuntimeError
        For writing, when another sweep holds the folder's lock.
    """

    def __init__(self, out, write=False):
        self.pa, self.pq = _pyarrow()
        self.path = check_output(out) if write else os.path.abspath(out)
        self.write_mode, self._lock = write, None
        if write:
            self._lock = _lock(self.path, out)
        self.schema = _schema(self.pa)
        self.keys, self.corrupt = set(), []
        for name in sorted(os.listdir(self.path)):
            full = os.path.join(self.path, name)
            if name.startswith(_TEMP) and write:
                os.remove(full)
            elif name.startswith(_PREFIX) and name.endswith(_SUFFIX):
                table = self._read(full)
                if table is not None:
                    self.keys.update(table.column("key").to_pylist())

    def close(self):
        """Releases the folder's lock (for writing)."""
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def _read(self, full):
        """The table in file `full`, or None for a damaged file (set aside
        as corrupt when writing) or one removed meanwhile by compaction."""
        try:
            table = self.pq.read_table(full, schema=self.schema)
            rows = table.select(["key", *_CONFIG_TYPES]).to_pylist()
            bad = next((row["key"] for row in rows if point_key(_config_of(row)) != row["key"]), None)
            if bad is not None:
                raise ValueError(f"the row of key {bad} does not hash to its key")
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, self.pa.ArrowException) as exc:
            self.corrupt.append(full)
            if self.write_mode:
                os.replace(full, full + ".corrupt")
                what = f"set aside as {os.path.basename(full)}.corrupt, its points will run again"
            else:
                what = "left out; the next run of the sweep runs its points again"
            warnings.warn(f"sweep file {full} is damaged ({exc}); {what}", RuntimeWarning, stacklevel=3)
            return None
        return table

    def write(self, rows):
        """Stores finished points (dicts of config and result columns, with
        ``key``) in one new file, durably: written to a temporary name,
        flushed to disk, then renamed into place."""
        if not rows:
            return
        self._write(self.pa.Table.from_pylist(rows, schema=self.schema))
        self.keys.update(row["key"] for row in rows)

    def _write(self, table):
        """`table` as a new file: under a temporary name, flushed to disk,
        then renamed into place (a crash leaves no file that looks whole)."""
        token = uuid.uuid4().hex
        temp = os.path.join(self.path, f"{_TEMP}{token}")
        with open(temp, "wb") as f:
            self.pq.write_table(table, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp, os.path.join(self.path, f"{_PREFIX}{token}{_SUFFIX}"))

    def files(self):
        return sorted(os.path.join(self.path, name) for name in os.listdir(self.path)
                      if name.startswith(_PREFIX) and name.endswith(_SUFFIX))

    def table(self):
        """Every stored row once, sorted by key: the same table, bit for
        bit, however the points were split between files and workers."""
        tables = [t for t in map(self._read, self.files()) if t is not None]
        table = self.pa.concat_tables(tables) if tables else self.schema.empty_table()
        keys = np.array(table.column("key").to_pylist(), dtype=object)
        order = np.argsort(keys, kind="stable")
        first = np.ones(len(order), bool)
        first[1:] = keys[order][1:] != keys[order][:-1]
        return table.take(self.pa.array(order[first])).combine_chunks()

    def compact(self):
        """Rewrites the folder as one file of `table` (sorted by key), then
        removes the files it replaces: a crash in between leaves both, and
        reading drops the duplicates."""
        files = self.files()
        if len(files) <= 1:
            return
        self._write(self.table())
        for name in files:
            os.remove(name)


def read_sweep(out):
    """The results of a sweep folder as a `pyarrow.Table`.

    One row per finished point, sorted by its key, duplicates dropped: the
    same table, bit for bit, whatever the backend, the number of workers,
    and the interruptions and resumptions of the sweep. Damaged files are
    reported (a RuntimeWarning) and left out. Reading changes nothing in
    the folder, so it is safe while a sweep is writing there.

    Parameters
    ----------
    out : str or path-like
        A folder written by `initcore.sweep`.

    Returns
    -------
    pyarrow.Table
        The columns ``key``, the config (``task``, ``version`` and every
        parameter; None where the task does not have it) and the results of
        `initcore.sweeps.tasks.run_point` (None for the other task's).

    Examples
    --------
    >>> table = read_sweep("runs/tanh")                     # doctest: +SKIP
    >>> table.to_pandas().pivot_table("q_last", "depth", "sigma_w2")  # doctest: +SKIP
    """
    if not os.path.isdir(out):
        raise FileNotFoundError(f"no sweep folder at {str(out)!r}")
    return Store(out).table()
