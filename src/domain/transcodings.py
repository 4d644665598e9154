"""JSON transcodings for the domain's value objects (used by snapshots and by the
read models' dispute documents). They live in the domain because they say how
its values are written, and both the store and the projections need them; they
use only `eventsourcing.persistence`'s codec classes, no database driver.

Events hold only JSON-native values and datetimes; aggregate state (and so
snapshots) holds frozen dataclasses with enum fields, which this transcoder
rebuilds with their declared types.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from enum import Enum
from typing import Any

from eventsourcing.persistence import DatetimeAsISO, DecimalAsStr, JSONTranscoder, Transcoding, UUIDAsHex

from domain import values

VALUE_CLASSES: tuple[type[Any], ...] = (
    values.Actor,
    values.Money,
    values.Offer,
    values.Evidence,
    values.Message,
    values.EvidenceRequest,
    values.Resolution,
    values.Appeal,
    values.ReturnShipment,
)


def coerce(hint: Any, value: Any) -> Any:
    """Turn a decoded JSON value back into the declared field type."""
    if value is None:
        return None
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        concrete = [a for a in typing.get_args(hint) if a is not type(None)]
        return coerce(concrete[0], value) if len(concrete) == 1 else value
    if origin is tuple:
        item = typing.get_args(hint)[0]
        return tuple(coerce(item, v) for v in value)
    if isinstance(hint, type) and issubclass(hint, Enum):
        return hint(value)
    return value


class DataclassAsDict(Transcoding):
    def __init__(self, cls: type[Any]) -> None:
        self.type = cls
        self.name = cls.__name__.lower()
        self.hints = typing.get_type_hints(cls, vars(values))

    def encode(self, obj: Any) -> dict[str, Any]:
        return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}

    def decode(self, data: dict[str, Any]) -> Any:
        return self.type(**{k: coerce(self.hints[k], v) for k, v in data.items()})


class DisputeTranscoder(JSONTranscoder):
    """The application adds the library's UUID, Decimal and datetime transcodings."""

    def __init__(self) -> None:
        super().__init__()
        for cls in VALUE_CLASSES:
            self.register(DataclassAsDict(cls))


def standalone_transcoder() -> DisputeTranscoder:
    """The transcoder with the library's base transcodings too (outside an Application)."""
    transcoder = DisputeTranscoder()
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO()):
        transcoder.register(transcoding)
    return transcoder
