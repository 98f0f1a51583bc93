"""Backing up a box and putting it back: ``branchline-edge backup`` and ``restore``.

A box is its data directory: the SQLite database (``edge.db``, in WAL mode, with
its ``-wal`` and ``-shm`` files), ``enrollment.json`` (who the box is) and
``keys/`` (its private key, the cloud's public key, the realtime app's
credentials, its TLS certificate). A backup is one tar archive of all three, made
while the edge runs: the database is copied by SQLite's online backup API
(``sqlite3.Connection.backup``), which reads one consistent snapshot under the
edge's WAL (its writers go on meanwhile), into a file that is never half
written (a temporary file beside it, fsynced, then renamed). The archive holds
the private key: keep it where the key may be (mode 0600).

``restore`` refuses while anything holds the database open (an edge serving from
it keeps a connection open, so an exclusive lock is refused), then replaces the
database (its old ``-wal`` and ``-shm`` removed), ``enrollment.json`` and
``keys/`` with the archive's, keeping what was there aside. The command then
leaves room past the backup's change numbers and ids (sync/restored.py): the box
may have synced after its backup, and the cloud already holds those numbers.

tarfile is imported by the two commands, not with the module: edge/cli.py loads this
module in every edge process, which would keep tarfile's 0.25 MB for nothing.
"""

import os
import shutil
import sqlite3
import tempfile
import time
import zlib

DATABASE = "edge.db"
ENROLLMENT = "enrollment.json"
KEYS = "keys"


class BackupError(Exception):
    pass


def _snapshot(database, target):
    """Copy ``database`` into the new file ``target`` by the online backup API."""
    source = sqlite3.connect(database, timeout=30)
    try:
        copy = sqlite3.connect(target)
        try:
            source.backup(copy)      # in one step: one snapshot, whatever writes go on
            copy.execute("PRAGMA journal_mode=DELETE")   # one self-contained file
        finally:
            copy.close()
    finally:
        source.close()


def backup(data_dir, to):
    """Write the archive of the box in ``data_dir`` to ``to`` (atomically; a folder:
    a file named for the time in it); answers (the archive's path, its bytes)."""
    import tarfile
    database = os.path.join(data_dir, DATABASE)
    if not os.path.exists(database):
        raise BackupError("%s holds no edge database" % data_dir)
    to = os.path.abspath(to)
    if os.path.isdir(to):
        to = os.path.join(to, "edge-backup-%s.tar.gz" % time.strftime("%Y%m%d-%H%M%S",
                                                                      time.gmtime()))
    if not os.path.isdir(os.path.dirname(to)):
        raise BackupError("there is no folder %s to write the backup in"
                          % os.path.dirname(to))
    with tempfile.TemporaryDirectory(dir=os.path.dirname(to), prefix=".backup-") as work:
        copied = os.path.join(work, DATABASE)
        _snapshot(database, copied)
        partial = os.path.join(work, "archive")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            with tarfile.open(fileobj=fh, mode="w:gz") as archive:
                archive.add(copied, DATABASE)
                for name in (ENROLLMENT, KEYS):
                    path = os.path.join(data_dir, name)
                    if os.path.exists(path):
                        archive.add(path, name)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(partial, to)
    _fsync_dir(os.path.dirname(to))
    return to, os.path.getsize(to)


def _fsync_dir(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def in_use(database):
    """Whether a process holds ``database`` open (an edge serving from it)."""
    if not os.path.exists(database):
        return False
    probe = sqlite3.connect(database, timeout=0, isolation_level=None)
    try:
        probe.execute("PRAGMA locking_mode=EXCLUSIVE")
        probe.execute("BEGIN EXCLUSIVE")
        probe.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError:
        return True
    except sqlite3.DatabaseError:
        return False            # not a database any more (what a restore is for): replaced
    finally:
        probe.close()


def _check(archive, names):
    if DATABASE not in names:
        raise BackupError("not a backup of an edge: no %s in it" % DATABASE)
    for member in archive.getmembers():
        if member.name.startswith(("/", "..")) or ".." in member.name.split("/") or \
                not (member.isfile() or member.isdir()):
            raise BackupError("refusing the archive's entry %r" % member.name)
    with archive.extractfile(DATABASE) as fh:
        head = fh.read(16)
    if head != b"SQLite format 3\x00":
        raise BackupError("the archive's %s is not an SQLite database" % DATABASE)


def restore(data_dir, source):
    """Put the box archived in ``source`` back into ``data_dir``; answers where the
    files it replaced were kept (None when there were none)."""
    import tarfile
    database = os.path.join(data_dir, DATABASE)
    if in_use(database):
        raise BackupError("an edge is running on %s: stop it first (systemctl stop "
                          "branchline-edge)" % data_dir)
    try:
        archive = tarfile.open(source, "r:gz")
    except (OSError, tarfile.TarError) as exc:
        raise BackupError("cannot read %s: %s" % (source, exc))
    os.makedirs(data_dir, exist_ok=True)
    with archive, tempfile.TemporaryDirectory(dir=data_dir, prefix=".restore-") as work:
        try:
            names = archive.getnames()
        except (tarfile.TarError, EOFError, zlib.error) as exc:
            raise BackupError("%s is damaged or cut short: %s" % (archive.name, exc))
        _check(archive, names)
        # Python >= 3.11.4 also refuses, by itself, what _check refuses (and more).
        archive.extractall(work, **({"filter": "data"} if hasattr(tarfile, "data_filter")
                                    else {}))
        aside = os.path.join(data_dir, "replaced-%d" % time.time())
        kept = False
        for name in (DATABASE + "-wal", DATABASE + "-shm", DATABASE, ENROLLMENT, KEYS):
            path = os.path.join(data_dir, name)
            if os.path.exists(path):
                os.makedirs(aside, exist_ok=True)
                shutil.move(path, os.path.join(aside, name))
                kept = True
        for name in (DATABASE, ENROLLMENT, KEYS):
            if os.path.exists(os.path.join(work, name)):
                os.replace(os.path.join(work, name), os.path.join(data_dir, name))
    os.chmod(os.path.join(data_dir, DATABASE), 0o600)
    _fsync_dir(data_dir)
    return aside if kept else None


