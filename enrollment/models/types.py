"""Column types shared by the models."""
import enum

from sqlalchemy import Enum


def str_enum(enum_class: type[enum.StrEnum], name: str) -> Enum:
    """A string enum stored as VARCHAR with a CHECK constraint (same on SQLite and PostgreSQL)."""
    return Enum(
        enum_class,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=20,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )
