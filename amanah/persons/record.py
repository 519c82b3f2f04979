"""A person list's record as linkage compares it: the one shape the importer produces and the
linker reads, so each can change without the other."""

from __future__ import annotations

from dataclasses import dataclass

#: Values of `PersonRecord.sex`.
SEXES = ("m", "f", "")


@dataclass(frozen=True, slots=True)
class PersonRecord:
    """One row of a person list. `key` is the list's own identifier of the row (its `--key`
    column, else the row number): it names the record in results and is never compared.
    Name parts are as written (linkage normalises them); empty means unknown."""

    key: str
    list_name: str
    full_name: str = ""
    ism: str = ""
    father: str = ""
    grandfather: str = ""
    family: str = ""
    mother: str = ""
    sex: str = ""
    #: The year of birth, read from a birth date or year, or from an age and the date it
    #: refers to; None when unknown.
    birth_year: int | None = None
    #: How far `birth_year` may be off: 0 from a date or year, 1 from an age.
    birth_year_spread: int = 0
    place_of_birth: str = ""
    #: The governorate's P-code (the gazetteer's), e.g. "SY01"; empty when unknown.
    governorate: str = ""
