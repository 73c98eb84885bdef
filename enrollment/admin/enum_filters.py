"""Filters on our enum columns, which store each member's value ("waitlisted").

Flask-Admin 2.2.1 offers the stored values as the filter's choices but looks the chosen one up
by member *name* (`Status["waitlisted"]`), a KeyError and a 500 for every choice. These look it
up by value and refuse an unknown one as an invalid filter value (a message, not a 500).
"""
from __future__ import annotations

from flask_admin.contrib.sqla import filters


def _values(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


class _ByValue:
    enum_class = None
    many = False

    def _known(self, value: str) -> bool:
        allowed = {m.value for m in self.enum_class} if self.enum_class else None
        parts = _values(value) if self.many else [value]
        return bool(parts) and (allowed is None or all(p in allowed for p in parts))

    def validate(self, value):
        return self._known(value)

    def clean(self, value):
        if self.enum_class is None:
            return _values(value) if self.many else value
        if self.many:
            return [self.enum_class(v) for v in _values(value)]
        return self.enum_class(value)


class EnumEqual(_ByValue, filters.EnumEqualFilter):
    pass


class EnumNotEqual(_ByValue, filters.EnumFilterNotEqual):
    pass


class EnumInList(_ByValue, filters.EnumFilterInList):
    many = True


class EnumNotInList(_ByValue, filters.EnumFilterNotInList):
    many = True


class FilterConverter(filters.FilterConverter):
    enum = (EnumEqual, EnumNotEqual, filters.EnumFilterEmpty, EnumInList, EnumNotInList)
