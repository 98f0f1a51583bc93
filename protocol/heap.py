"""How a node's process gives memory back to the system after a burst of work.

glibc's malloc raises its thresholds as a process runs: once a block of more than
128 KiB is freed, blocks up to that size come from the heap instead of their own
mapping, and the free space at a heap's top is kept up to twice that. A store's
worker thread has a heap of its own (an arena), so after a shift of orders an edge
kept about 16 MB of free space there for ever (malloc_trim does not shrink the top
of a thread's heap). Fixing both thresholds turns the adjustment off: large blocks
are mapped and unmapped on their own, and a heap's free top goes back to the system
once it exceeds the threshold, on the free() that made it so. No timer, no trim call:
the memory is returned by the work that freed it.
"""

import ctypes

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
THRESHOLD_BYTES = 128 * 1024     # glibc's own starting value for both


def return_freed_memory():
    """Fix malloc's thresholds (glibc; elsewhere it answers False and does nothing).
    For the whole process, its threads' heaps included: call it once, at start-up."""
    mallopt = getattr(ctypes.CDLL(None), "mallopt", None)    # the C library in use
    if mallopt is None:
        return False
    return (mallopt(M_TRIM_THRESHOLD, THRESHOLD_BYTES) == 1
            and mallopt(M_MMAP_THRESHOLD, THRESHOLD_BYTES) == 1)
