"""Numbers in e-invoices: one strict reader for every syntax.

:class:`~decimal.Decimal` accepts far more than any e-invoice schema: ``NaN``, ``sNaN``, ``Infinity``, exponents
(``1E+999999999`` is a billion digits long once written out), digits of other scripts (``'١٢٣'``) and underscores.
Arithmetic on such values raises, and writing one out can take gigabytes, so a number is held to its schema type
before anything computes with it. Every reader says which :class:`NumberType` each element has and calls
:func:`read_number`; what it refuses it reports as a finding naming the element, and the model gets no value.

The facets count digits on the value, as XML Schema does: leading zeros and trailing zeros of the fraction are not
digits of the number (``007.50`` has one digit before the point and one decimal).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from .i18n import _

# xsd:decimal (XML Schema 1.1 part 2, 3.3.3.1): ASCII digits, an optional sign, an optional decimal point with
# digits on either side or both ("+12", "-0.5", "12." and ".5" are numbers); no exponent, NaN or INF, which belong
# to xsd:double. Its whiteSpace facet is "collapse", which drops the XML blanks around it and no other character.
XSD_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
XSD_INTEGER = re.compile(r"[+-]?[0-9]+")
XML_BLANKS = " \t\r\n"
# xsd:decimal itself sets no limit, but XML Schema 1.0 (part 2, 3.2.3) asks processors to support only 18 digits,
# so a validator may refuse more. Python's decimal arithmetic, in which every total and check is computed, holds
# 28 digits exactly (its default precision, also that of the decimal type many ERPs write from); beyond that sums
# and comparisons would be rounded silently, so a longer number is refused rather than misjudged. Digits count as
# the totalDigits facet counts them: all but the leading zeros and the trailing zeros of the fraction.
MAX_DIGITS = 28
# leading zeros and trailing zeros of the fraction are not digits of the value but are kept (the decimal rules count
# the decimals as written): a bound on the written length keeps a value of a few digits from taking megabytes
MAX_LENGTH = 100
_QUOTED = 40  # characters of a refused text that a message quotes


class NumberError(ValueError):
    """``text`` is not a number of the required type; ``message`` says why, naming the element."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class NumberType:
    """What a schema type allows of a number."""

    name: str  # as the schema names it: xsd:decimal, TKwotowy...
    integer: bool = False  # an xsd:integer: no decimal point, read as an int
    pattern: re.Pattern | None = None  # the type's own pattern facet, on top of the lexical space
    integer_digits: int | None = None  # digits before the decimal point (from the pattern, e.g. [1-9]\d{0,15})
    fraction_digits: int | None = None
    total_digits: int = MAX_DIGITS
    minimum: Decimal | None = None
    maximum: Decimal | None = None


DECIMAL = NumberType("xsd:decimal")
INTEGER = NumberType("xsd:integer", integer=True)


def read_number(text, field, kind=DECIMAL):
    """The text of an element, as written, as a :class:`~decimal.Decimal` (an ``int`` for an integer type);
    :class:`NumberError` when ``kind`` does not allow it, an empty text included. ``field`` names the element in the
    message.

    The length is checked first, so whatever a document holds, a refused text costs next to nothing.
    """
    text = text.strip(XML_BLANKS)
    value = _quoted(text)
    if len(text) > MAX_LENGTH:
        raise NumberError(
            _(
                "The value %(value)r of %(field)s is longer than %(limit)s characters.",
                field=field,
                value=value,
                limit=MAX_LENGTH,
            )
        )
    if not (XSD_INTEGER if kind.integer else XSD_DECIMAL).fullmatch(text):
        raise NumberError(
            _(
                "The value %(value)r of %(field)s is not a number "
                "(digits 0-9, an optional sign and decimal point, no exponent).",
                field=field,
                value=value,
            )
        )
    whole, _point, fraction = text.lstrip("+-").partition(".")
    integer_digits, fraction_digits = len(whole.lstrip("0")), len(fraction.rstrip("0"))
    if kind.integer_digits is not None and integer_digits > kind.integer_digits:
        raise NumberError(
            _(
                "The value %(value)r of %(field)s has more than %(limit)s digits before the decimal point.",
                field=field,
                value=value,
                limit=kind.integer_digits,
            )
        )
    if kind.fraction_digits is not None and fraction_digits > kind.fraction_digits:
        raise NumberError(
            _(
                "The value %(value)r of %(field)s has more than %(limit)s decimals.",
                field=field,
                value=value,
                limit=kind.fraction_digits,
            )
        )
    if integer_digits + fraction_digits > kind.total_digits:
        raise NumberError(
            _(
                "The value %(value)r of %(field)s has more than %(limit)s digits.",
                field=field,
                value=value,
                limit=kind.total_digits,
            )
        )
    if kind.pattern is not None and not kind.pattern.fullmatch(text):
        raise NumberError(
            _(
                "The value %(value)r of %(field)s is not written as %(type)s requires (%(pattern)s).",
                field=field,
                value=value,
                type=kind.name,
                pattern=kind.pattern.pattern,
            )
        )
    number = int(text) if kind.integer else Decimal(text)
    if kind.minimum is not None and number < kind.minimum:
        raise NumberError(
            _("The value %(value)r of %(field)s is less than %(limit)s.", field=field, value=value, limit=kind.minimum)
        )
    if kind.maximum is not None and number > kind.maximum:
        raise NumberError(
            _("The value %(value)r of %(field)s is more than %(limit)s.", field=field, value=value, limit=kind.maximum)
        )
    return number


def _quoted(text):
    return text if len(text) <= _QUOTED else text[: _QUOTED - 1] + "…"
