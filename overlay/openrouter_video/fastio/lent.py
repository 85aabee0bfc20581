"""Receive buffers lent to the file writer and given back once written: no copy of a bulk body.

The network streams receive into a buffer of their own, and ``read`` hands what was received over as a
fresh ``bytes``: a copy of every body byte (on the event loop, its largest single cost at loopback
speeds: about 0.15 CPU s/GiB of 0.4). A download's chunks only go on to
:class:`~..io.files.PartialFile`, which writes and hashes them on threads of its own. So, for requests
that ask for it (:data:`~.._extensions.LEND`), a stream lends the buffer itself, as a ``memoryview``,
and receives into another one; the writer thread gives it back (:func:`give_back`) once written and
hashed. A download thus cycles through a few buffers whose pages stay mapped, and its bytes go from the
socket to ``os.write`` without a copy in Python.

The rule that keeps this safe: whoever keeps a lent chunk's bytes past handing the chunk on copies them
(the drivers' resume overlap does); only the file writer gives a chunk back, after its last use. A lent
chunk nobody gives back (an error, a discarded body, any other consumer) is simply garbage collected,
and the stream allocates a fresh buffer instead.
"""

from __future__ import annotations

import weakref
from typing import Final, TypeGuard

#: Smallest chunk a stream lends instead of copying: half its buffer. A lent buffer is out of use
#: until it is written, whatever the chunk's size, so a smaller chunk is copied into a ``bytes`` of its
#: own size: with 64 KiB, 32 downloads at once in threads (small chunks each) peaked at 203 MiB
#: instead of 147. A single fast download reads full buffers, and lends them.
LEND_BYTES: Final = 512 * 1024

#: Most buffers a stream keeps for reuse (what a file's writer and hasher queues hold, and more).
POOL_SIZE: Final = 8


class Pool:
    """The buffers given back to one stream, while it lends (:attr:`lending`). A stream stops lending
    when the body ends: buffers given back after that are dropped, so an idle pooled connection holds
    only its receive buffer. Buffers refer to their pool weakly: nothing keeps a closed stream's alive."""

    __slots__ = ("__weakref__", "free", "lending")

    def __init__(self) -> None:
        self.free: list[LentBuffer] = []
        self.lending = False

    def stop(self) -> None:
        """Lending ended: drop the buffers kept, and any given back from now on."""
        self.lending = False
        self.free.clear()

    def take(self, size: int) -> LentBuffer:
        """A buffer to receive into: one given back, or a new one of ``size`` bytes."""
        self.lending = True
        return self.free.pop() if self.free else LentBuffer(size, self)


class LentBuffer(bytearray):
    """A receive buffer of a network stream; it goes back to its :class:`Pool` once written."""

    __slots__ = ("__weakref__", "home")

    def __init__(self, size: int, pool: Pool) -> None:
        super().__init__(size)
        self.home = weakref.ref(pool)


def is_lent(chunk: object) -> TypeGuard[memoryview]:
    """Whether ``chunk`` is a view of a lent buffer (to be given back, never kept)."""
    return type(chunk) is memoryview and type(chunk.obj) is LentBuffer


def give_back(chunk: memoryview) -> None:
    """Return a lent chunk's buffer to its stream (call once, after the chunk's last use). The view
    is released: any later use of this chunk raises instead of reading bytes overwritten since."""
    buffer = chunk.obj
    chunk.release()
    assert isinstance(buffer, LentBuffer)
    pool = buffer.home()
    if pool is not None and pool.lending and len(pool.free) < POOL_SIZE:
        pool.free.append(buffer)  # list.append is atomic: the writer thread gives back, the loop takes
