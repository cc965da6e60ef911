"""Product values in the PIM's REST "standard" format, drawn from a seeded RNG.

Every value is a list of ``{"locale", "scope", "data"}`` objects, keys in that order, with ``_links`` after
``data`` for media (events-api-facts.md section 7). The formats are the ones the PIM's normalizers write,
not the hand-written docs examples: numbers with decimals as strings with 4 decimals, prices with 2,
metric ``symbol`` only where the profile has it (SaaS since May 2026, facts section 0), dates in PHP's
``'c'`` format, media as a file key plus an absolute download link.

Text comes from a :class:`TextPool` filled once per catalog by Faker in each locale's language, so that
localised values carry non-Latin scripts (and now and then an emoji) that PHP encodes as ``\\uXXXX``.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

__all__ = [
    "ATTRIBUTE_TYPES",
    "METRIC_FAMILIES",
    "Attribute",
    "Channel",
    "MetricFamily",
    "TableColumn",
    "TextPool",
    "ValueContext",
    "format_amount",
    "format_c_date",
    "make_value",
    "media_file_key",
    "metric_data",
]

IDENTIFIER = "pim_catalog_identifier"
TEXT = "pim_catalog_text"
TEXTAREA = "pim_catalog_textarea"
NUMBER = "pim_catalog_number"
METRIC = "pim_catalog_metric"
PRICE_COLLECTION = "pim_catalog_price_collection"
SIMPLESELECT = "pim_catalog_simpleselect"
MULTISELECT = "pim_catalog_multiselect"
BOOLEAN = "pim_catalog_boolean"
DATE = "pim_catalog_date"
FILE = "pim_catalog_file"
IMAGE = "pim_catalog_image"
REFERENCE_DATA_SIMPLESELECT = "pim_reference_data_simpleselect"
REFERENCE_DATA_MULTISELECT = "pim_reference_data_multiselect"
ASSET_COLLECTION = "pim_catalog_asset_collection"
REFERENCE_ENTITY = "akeneo_reference_entity"
REFERENCE_ENTITY_COLLECTION = "akeneo_reference_entity_collection"
TABLE = "pim_catalog_table"
PRODUCT_LINK = "pim_catalog_product_link"

#: Every attribute type of facts section 7; the product link exists only in SaaS.
ATTRIBUTE_TYPES = (
    IDENTIFIER, TEXT, TEXTAREA, NUMBER, METRIC, PRICE_COLLECTION, SIMPLESELECT, MULTISELECT, BOOLEAN,
    DATE, FILE, IMAGE, REFERENCE_DATA_SIMPLESELECT, REFERENCE_DATA_MULTISELECT, ASSET_COLLECTION,
    REFERENCE_ENTITY, REFERENCE_ENTITY_COLLECTION, TABLE, PRODUCT_LINK,
)


@dataclass(frozen=True)
class MetricFamily:
    """A measurement family: unit codes with their symbols, the first one the default."""

    code: str
    units: tuple[tuple[str, str], ...]

    def symbol(self, unit: str) -> str:
        return dict(self.units)[unit]


METRIC_FAMILIES: dict[str, MetricFamily] = {
    family.code: family
    for family in (
        MetricFamily("Weight", (("GRAM", "g"), ("KILOGRAM", "kg"), ("MILLIGRAM", "mg"), ("POUND", "lb"),
                                ("OUNCE", "oz"))),
        MetricFamily("Length", (("CENTIMETER", "cm"), ("MILLIMETER", "mm"), ("METER", "m"), ("INCH", "in"))),
        MetricFamily("Power", (("WATT", "W"), ("KILOWATT", "kW"))),
        MetricFamily("Volume", (("MILLILITER", "ml"), ("LITER", "l"))),
    )
}


@dataclass(frozen=True)
class TableColumn:
    """A column of a table attribute: ``select`` (option codes), ``number`` (int), ``boolean``, ``text``."""

    code: str
    kind: str
    options: tuple[str, ...] = ()


@dataclass(frozen=True)
class Attribute:
    """An attribute of the catalog structure, with what the value generator needs to know.

    ``options`` holds the codes a value may take: select options, reference data, asset codes or
    reference entity records. ``text`` picks the flavour of text values: ``name``, ``description``,
    ``tagline``, ``ean`` or ``code``.
    """

    code: str
    type: str
    group: str = "marketing"
    localizable: bool = False
    scopable: bool = False
    decimals_allowed: bool = False
    metric_family: str | None = None
    reference_data_name: str | None = None
    options: tuple[str, ...] = ()
    columns: tuple[TableColumn, ...] = ()
    text: str = "name"
    low: int = 1
    high: int = 1000
    extension: str = "jpg"
    #: a metric's units with their symbols, the default first; empty: those of :data:`METRIC_FAMILIES`
    units: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Channel:
    """A channel (scope) with its activated locales and currencies."""

    code: str
    locales: tuple[str, ...]
    currencies: tuple[str, ...]


# Faker locales are costly to build (~100 ms for six); one instance per locale set serves every catalog.
# It is reseeded under the lock for each pool, so sharing it never shares random state.
_FAKER_LOCK = threading.Lock()
_FAKERS: dict[tuple[str, ...], Any] = {}
_NO_SPACE = frozenset({"ja_JP", "zh_CN", "zh_TW"})
_EMOJI = ("🕶️", "👟", "✨", "🌿", "🔥", "🎁", "⭐", "💧", "👜", "☕")
_POOL_WORDS = 120
_POOL_SENTENCES = 40


def _faker_for(locales: tuple[str, ...]) -> Any:
    from faker import Faker
    from faker.config import AVAILABLE_LOCALES

    faker = _FAKERS.get(locales)
    if faker is None:
        faker_locales = list(dict.fromkeys(loc if loc in AVAILABLE_LOCALES else "en_US" for loc in locales))
        faker = Faker(faker_locales)
        _FAKERS[locales] = faker
    return faker


class TextPool:
    """Words and sentences per locale, drawn once from Faker seeded by the catalog's RNG.

    Values are then composed from the pool with the caller's RNG, which keeps edits fast (no Faker call
    per save) and deterministic.
    """

    def __init__(self, words: Mapping[str, tuple[str, ...]], sentences: Mapping[str, tuple[str, ...]]) -> None:
        self.words = dict(words)
        self.sentences = dict(sentences)
        ascii_words = [w.lower() for w in self.words.get("en_US", ()) if w.isascii() and w.isalpha() and len(w) > 3]
        self.ascii_words: tuple[str, ...] = tuple(dict.fromkeys(ascii_words)) or ("item", "thing", "object")

    @classmethod
    def from_faker(cls, locales: Sequence[str], seed: int) -> TextPool:
        """Fill a pool for ``locales`` (plus ``en_US``, used for codes and file names) from Faker."""
        wanted = tuple(dict.fromkeys(["en_US", *locales]))
        words: dict[str, tuple[str, ...]] = {}
        sentences: dict[str, tuple[str, ...]] = {}
        with _FAKER_LOCK:
            faker = _faker_for(wanted)
            faker.seed_instance(seed)
            for locale in wanted:
                from faker.config import AVAILABLE_LOCALES

                generator = faker[locale if locale in AVAILABLE_LOCALES else "en_US"]
                size = min(_POOL_WORDS, len(generator.get_words_list()))
                words[locale] = tuple(generator.words(nb=size, unique=True))
                sentences[locale] = tuple(generator.sentence(nb_words=6) for _ in range(_POOL_SENTENCES))
        return cls(words, sentences)

    def name(self, locale: str, rng: random.Random, *, emoji: float = 0.08) -> str:
        """A product name in ``locale``: two to four words, now and then an emoji."""
        words = rng.sample(self.words.get(locale) or self.words["en_US"], rng.randint(2, 4))
        if locale in _NO_SPACE:
            text = "".join(words)
        else:
            text = " ".join(words)
            text = text[:1].upper() + text[1:]
        if rng.random() < emoji:
            text = f"{text} {rng.choice(_EMOJI)}"
        return text

    def sentence(self, locale: str, rng: random.Random) -> str:
        return rng.choice(self.sentences.get(locale) or self.sentences["en_US"])

    def description(self, locale: str, rng: random.Random) -> str:
        """One to three sentences, often as HTML (the PIM's WYSIWYG text areas store markup)."""
        parts = [self.sentence(locale, rng) for _ in range(rng.randint(1, 3))]
        separator = "" if locale in _NO_SPACE else " "
        text = separator.join(parts)
        roll = rng.random()
        if roll < 0.5:
            text = f"<p>{text}</p>"
        elif roll < 0.6:
            prefix = rng.choice(("100% ", "½ ", "A/B ", '"Pro" ', "Tom & Jerry's "))
            text = f"{prefix}{parts[0]}\n{separator.join(parts[1:])}".rstrip("\n")
        if rng.random() < 0.05:
            text += f" {rng.choice(_EMOJI)}"
        return text

    def slug(self, rng: random.Random, words: int = 2) -> str:
        """An ASCII code-like word group (``summer_linen``), for codes and file names."""
        return "_".join(rng.sample(self.ascii_words, min(words, len(self.ascii_words))))


@dataclass(frozen=True)
class ValueContext:
    """What a value needs beyond the attribute: channels, currencies, text, URL and profile switches."""

    channels: tuple[Channel, ...]
    text: TextPool
    pim_url: str
    metric_symbol: bool
    link_target: Callable[[random.Random], dict[str, Any] | None] | None = None
    locales: tuple[str, ...] = field(init=False)
    currencies: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        locales = dict.fromkeys(loc for channel in self.channels for loc in channel.locales)
        currencies = dict.fromkeys(cur for channel in self.channels for cur in channel.currencies)
        object.__setattr__(self, "locales", tuple(locales))
        object.__setattr__(self, "currencies", tuple(sorted(currencies)))

    def slots(self, attribute: Attribute) -> list[tuple[str | None, str | None]]:
        """The (locale, scope) pairs a complete value has, in the PIM's raw-values order."""
        if attribute.scopable and attribute.localizable:
            return [(loc, ch.code) for ch in self.channels for loc in ch.locales]
        if attribute.scopable:
            return [(None, ch.code) for ch in self.channels]
        if attribute.localizable:
            return [(loc, None) for loc in self.locales]
        return [(None, None)]


def format_amount(units: int, decimals: int) -> str:
    """``units`` hundredths (or ten-thousandths) as the PIM's fixed-point string: 1250, 2 -> ``"12.50"``.

    PHP's ``number_format(units / 10**decimals, decimals, '.', '')`` in the PIM's normalizers (facts section
    7), negative amounts included (-1, 2 -> ``"-0.01"``; a test compares it with php-cli). The amount is
    exact, so nothing is rounded and no float is involved.
    """
    whole, fraction = divmod(abs(units), 10**decimals)
    sign = "-" if units < 0 else ""
    return f"{sign}{whole}.{fraction:0{decimals}d}" if decimals else f"{sign}{whole}"


def format_c_date(epoch: int) -> str:
    """PHP's ``DateTime::format('c')`` in UTC: ``2021-04-29T00:00:00+00:00`` (facts section 7)."""
    return datetime.fromtimestamp(epoch, tz=timezone.utc).isoformat()


def media_file_key(rng: random.Random, filename: str) -> str:
    """A file key as the PIM stores it: ``9/9/c/c/99cc…_name.jpg`` (40 hex digits, 4 of them as folders).

    The PIM replaces every character of the original file name outside ``[A-Za-z0-9.]`` by ``_``.
    """
    digest = f"{rng.getrandbits(160):040x}"
    clean = "".join(c if (c.isascii() and c.isalnum()) or c == "." else "_" for c in filename)
    return f"{digest[0]}/{digest[1]}/{digest[2]}/{digest[3]}/{digest}_{clean}"


def metric_data(rng: random.Random, family: MetricFamily, *, decimals: bool, symbol: bool,
                low: int = 1, high: int = 1000) -> dict[str, Any]:
    """``{"amount", "unit"[, "symbol"]}``: 4-decimal string amount, or an int if decimals are not allowed."""
    unit = family.units[0][0] if rng.random() < 0.8 else rng.choice(family.units)[0]
    amount: str | int
    if decimals:
        amount = format_amount(rng.randint(low, high) * 10_000 + rng.choice((0, 0, 2500, 5000, 7500, 1200)), 4)
    else:
        amount = rng.randint(low, high)
    data: dict[str, Any] = {"amount": amount, "unit": unit}
    if symbol:
        data["symbol"] = family.symbol(unit)
    return data


#: Rough exchange rates in percent of EUR, so that one product's prices look plausible side by side.
_RATES = {"EUR": 100, "USD": 108, "GBP": 86, "JPY": 16_200, "CNY": 780, "RUB": 9_800, "CHF": 95}


def price_data(rng: random.Random, currencies: Sequence[str], *, decimals: bool,
               low: int = 1, high: int = 1000) -> list[dict[str, Any]]:
    """One price per currency, amounts with 2 decimals as strings, or ints (facts section 7)."""
    base = rng.randint(low * 100, high * 100)
    prices: list[dict[str, Any]] = []
    for currency in currencies:
        cents = base * _RATES.get(currency, 100) // 100
        amount: str | int = format_amount(cents, 2) if decimals else max(1, cents // 100)
        prices.append({"amount": amount, "currency": currency})
    return prices


_DAY = 86_400
_DATE_LOW = 16_436  # 2015-01-01 in days since the epoch
_DATE_HIGH = 20_819  # 2026-12-31


def _data(attribute: Attribute, rng: random.Random, ctx: ValueContext, locale: str | None,
          name_hint: str | None) -> Any:
    kind = attribute.type
    text = ctx.text
    if kind in (TEXT, TEXTAREA):
        flavour = attribute.text
        loc = locale or "en_US"
        if flavour == "ean":
            return f"{rng.randint(10**12, 10**13 - 1)}"
        if flavour == "code":
            return text.slug(rng, 2).upper()
        if flavour == "description":
            return text.description(loc, rng)
        if flavour == "tagline":
            return text.sentence(loc, rng)
        return text.name(loc, rng)
    if kind == NUMBER:
        if attribute.decimals_allowed:
            return format_amount(rng.randint(attribute.low, attribute.high) * 10_000 + rng.randrange(0, 10_000, 500), 4)
        return rng.randint(attribute.low, attribute.high)
    if kind == METRIC:
        assert attribute.metric_family is not None
        family = (MetricFamily(attribute.metric_family, attribute.units) if attribute.units
                  else METRIC_FAMILIES[attribute.metric_family])
        return metric_data(rng, family, decimals=attribute.decimals_allowed,
                           symbol=ctx.metric_symbol, low=attribute.low, high=attribute.high)
    if kind == PRICE_COLLECTION:
        return price_data(rng, ctx.currencies, decimals=attribute.decimals_allowed,
                          low=attribute.low, high=attribute.high)
    if kind in (SIMPLESELECT, REFERENCE_DATA_SIMPLESELECT, REFERENCE_ENTITY):
        return rng.choice(attribute.options)
    if kind in (MULTISELECT, REFERENCE_DATA_MULTISELECT, REFERENCE_ENTITY_COLLECTION, ASSET_COLLECTION):
        return rng.sample(attribute.options, rng.randint(1, min(3, len(attribute.options))))
    if kind == BOOLEAN:
        return rng.random() < 0.5
    if kind == DATE:
        return format_c_date(rng.randint(_DATE_LOW, _DATE_HIGH) * _DAY)
    if kind in (FILE, IMAGE):
        stem = name_hint or text.slug(rng, 2)
        return media_file_key(rng, f"{stem}.{attribute.extension}")
    if kind == TABLE:
        return _table(attribute, rng, text)
    if kind == IDENTIFIER:  # a second identifier attribute (SaaS); the main one is the product's identifier
        return text.slug(rng, 2).upper()
    raise ValueError(f"no generator for attribute type {kind!r}")


def _table(attribute: Attribute, rng: random.Random, text: TextPool) -> list[dict[str, Any]]:
    first, *others = attribute.columns
    rows: list[dict[str, Any]] = []
    for key in rng.sample(first.options, rng.randint(1, min(4, len(first.options)))):
        row: dict[str, Any] = {first.code: key}
        for column in others:
            if rng.random() < 0.2:
                continue  # empty cells are left out of the row
            if column.kind == "number":
                row[column.code] = rng.randint(1, 500)
            elif column.kind == "boolean":
                row[column.code] = rng.random() < 0.3
            elif column.kind == "select":
                row[column.code] = rng.choice(column.options)
            else:
                row[column.code] = text.sentence("en_US", rng)
        rows.append(row)
    return rows


def make_value(attribute: Attribute, rng: random.Random, ctx: ValueContext, *,
               file_stem: str | None = None) -> list[dict[str, Any]] | None:
    """A complete value of ``attribute``: one entry per locale and/or channel, or None if there is none.

    A product link (``{"type": "product", "id": <uuid>}`` or ``{"type": "product_model", "id": <code>}``)
    needs ``ctx.link_target``; without a target there is no value.
    """
    if attribute.type == PRODUCT_LINK:
        target = ctx.link_target(rng) if ctx.link_target is not None else None
        return None if target is None else [{"locale": None, "scope": None, "data": target}]
    entries: list[dict[str, Any]] = []
    media = attribute.type in (FILE, IMAGE)
    for locale, scope in ctx.slots(attribute):
        data = _data(attribute, rng, ctx, locale, file_stem)
        entry: dict[str, Any] = {"locale": locale, "scope": scope, "data": data}
        if media:
            href = f"{ctx.pim_url}/api/rest/v1/media-files/{data}/download"
            entry["_links"] = {"download": {"href": href}}
        entries.append(entry)
    return entries


def change_value(attribute: Attribute, current: list[dict[str, Any]] | None, rng: random.Random,
                 ctx: ValueContext) -> list[dict[str, Any]] | None:
    """An edit of one value: a whole new value, or (for localised values) one entry rewritten.

    Returns a new list; ``current`` is never mutated, because older snapshots share it.
    """
    fresh = make_value(attribute, rng, ctx)
    if fresh is None or not current or len(current) == 1 or rng.random() < 0.4:
        return fresh
    index = rng.randrange(len(current))
    slot = current[index]
    replacement = next((e for e in fresh if e["locale"] == slot["locale"] and e["scope"] == slot["scope"]), None)
    if replacement is None:
        return fresh
    edited = list(current)
    edited[index] = replacement
    return edited
