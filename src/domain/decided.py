"""The disputes this process last saved, for deciding the next command without
reading the store first.

A copy here may be stale (another process may have written since): a command
decided on it fails at insert, because its event's version is already taken,
and is decided again on the stored dispute. So the copy saves a read, never a
check. Entries are the objects as saved and never mutated: each command gets a
deep copy.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from copy import deepcopy
from uuid import UUID

from domain.dispute import Dispute


class Decided:
    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[UUID, Dispute] = OrderedDict()
        self._lock = threading.Lock()

    def copy_of(self, dispute_id: UUID) -> Dispute | None:
        with self._lock:
            found = self._entries.get(dispute_id)
            if found is None:
                return None
            self._entries.move_to_end(dispute_id)
        return deepcopy(found)

    def keep(self, dispute: Dispute) -> None:
        if self.size <= 0:
            return
        with self._lock:
            known = self._entries.get(dispute.id)
            if known is not None and known.version > dispute.version:
                return  # a later save of this process got here first
            self._entries[dispute.id] = dispute
            self._entries.move_to_end(dispute.id)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def forget(self, dispute_id: UUID) -> None:
        with self._lock:
            self._entries.pop(dispute_id, None)
