"""Files a node makes once in its data directory (its key, its realtime credentials).

Several cloud processes may start together over one data directory: a file is
written whole under a temporary name and linked into place only if none is
there yet, so no process ever reads half of one, and of two made at once one
wins and every process uses it.
"""

import os


def create_once(path, data):
    """Write bytes ``data`` to ``path`` (mode 0600) unless a file is there already;
    answers the bytes the file holds afterwards (ours, or the one made first)."""
    if not os.path.exists(path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = "%s.%d.tmp" % (path, os.getpid())
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass                     # another process made it first: use theirs
        finally:
            os.unlink(tmp)
    with open(path, "rb") as fh:
        return fh.read()
