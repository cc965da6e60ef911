"""The catalog structure: channels, locales, attributes, families, variants, categories, groups, associations.

This is the reference data a real PIM is configured with before any product exists. Products and product
models (in :mod:`.catalog`) only ever point at it; it never changes while an activity runs. It covers every
attribute type of events-api-facts.md section 7 so that a receiver meets every value format.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from .values import (
    ASSET_COLLECTION,
    BOOLEAN,
    DATE,
    FILE,
    IDENTIFIER,
    IMAGE,
    METRIC,
    MULTISELECT,
    NUMBER,
    PRICE_COLLECTION,
    PRODUCT_LINK,
    REFERENCE_DATA_MULTISELECT,
    REFERENCE_DATA_SIMPLESELECT,
    REFERENCE_ENTITY,
    REFERENCE_ENTITY_COLLECTION,
    SIMPLESELECT,
    TABLE,
    TEXT,
    TEXTAREA,
    Attribute,
    Channel,
    TableColumn,
    TextPool,
)

if TYPE_CHECKING:
    from .shape import CatalogShape

__all__ = [
    "DEFAULT_CHANNELS",
    "AssociationType",
    "CatalogStructure",
    "Category",
    "Family",
    "FamilyVariant",
    "Group",
    "VariantLevel",
    "build_structure",
]

#: Three channels over six locales, three of them in non-Latin scripts (values encode as ``\\uXXXX``).
DEFAULT_CHANNELS: tuple[Channel, ...] = (
    Channel("ecommerce", ("en_US", "fr_FR", "de_DE", "ja_JP"), ("EUR", "JPY", "USD")),
    Channel("mobile", ("en_US", "zh_CN", "ru_RU"), ("CNY", "USD")),
    Channel("print", ("de_DE", "fr_FR"), ("EUR",)),
)

IDENTIFIER_ATTRIBUTE = "sku"


@dataclass(frozen=True)
class Family:
    """A family: its attributes (identifier first) and the attributes required per channel."""

    code: str
    attributes: tuple[str, ...]
    requirements: Mapping[str, tuple[str, ...]]
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class VariantLevel:
    """One level of a family variant: its axes and the attributes set at that level (axes included)."""

    axes: tuple[str, ...]
    attributes: tuple[str, ...]


@dataclass(frozen=True)
class FamilyVariant:
    """How a family's products vary: 1 or 2 levels; the last level holds the variant products."""

    code: str
    family: str
    levels: tuple[VariantLevel, ...]

    def attributes_at(self, family: Family, depth: int) -> tuple[str, ...]:
        """Attributes set at ``depth``: 0 is the root model (the family's common attributes)."""
        if depth > 0:
            return self.levels[depth - 1].attributes
        below = {code for level in self.levels for code in level.attributes}
        return tuple(code for code in family.attributes if code not in below)


@dataclass(frozen=True)
class Category:
    code: str
    parent: str | None
    labels: Mapping[str, str]


@dataclass(frozen=True)
class Group:
    code: str
    type: str
    labels: Mapping[str, str]


@dataclass(frozen=True)
class AssociationType:
    """An association type; quantified ones (PRODUCTSET) carry quantities (``quantified_associations``)."""

    code: str
    quantified: bool = False


@dataclass(frozen=True)
class CatalogStructure:
    """All the reference data of one catalog."""

    channels: tuple[Channel, ...]
    attributes: Mapping[str, Attribute]
    families: Mapping[str, Family]
    family_variants: Mapping[str, FamilyVariant]
    categories: Mapping[str, Category]
    groups: Mapping[str, Group]
    association_types: Mapping[str, AssociationType]
    identifier_attribute: str = IDENTIFIER_ATTRIBUTE
    #: whether products without family are drawn now and then (the kit's own catalog; a catalog file's
    #: products all belong to its families)
    familyless: bool = True
    #: the attributes a mass edit may set
    mass_edit_attributes: tuple[str, ...] = ("collection", "eco_friendly", "release_date", "price")

    @cached_property
    def leaf_categories(self) -> tuple[str, ...]:
        parents = {c.parent for c in self.categories.values()}
        return tuple(code for code in self.categories if code not in parents)

    @cached_property
    def plain_association_types(self) -> tuple[str, ...]:
        """Codes of the non-quantified types, sorted as the PIM lists them (PACK, SUBSTITUTION, ...)."""
        return tuple(sorted(c for c, t in self.association_types.items() if not t.quantified))

    @cached_property
    def quantified_association_types(self) -> tuple[str, ...]:
        return tuple(sorted(c for c, t in self.association_types.items() if t.quantified))

    def variants_of(self, family: str) -> tuple[FamilyVariant, ...]:
        return tuple(v for v in self.family_variants.values() if v.family == family)


_COLORS = ("black", "white", "red", "blue", "green", "yellow", "brown", "grey", "pink", "purple")
_SIZES = ("xs", "s", "m", "l", "xl", "xxl")
_SHOE_SIZES = tuple(f"eu_{n}" for n in range(36, 47))
_COLLECTIONS = ("winter_2020", "summer_2021", "winter_2021", "spring_2022", "autumn_2022", "summer_2023")
_FABRICS = ("cotton", "polyester", "wool", "silk", "linen", "leather", "elastane", "cashmere")
_CERTIFICATIONS = ("fsc", "oeko_tex", "fair_trade", "energy_star", "ce", "rohs", "gots")
_INGREDIENTS = ("sugar", "salt", "flour", "milk", "egg", "cocoa", "hazelnut", "water", "palm_oil", "butter")
_VIEWS = ("frontview", "backview", "sideview", "detail")


def _attributes(rng: random.Random, text: TextPool) -> tuple[Attribute, ...]:
    designers = tuple(sorted({text.slug(rng, 1) for _ in range(8)}))
    assets = tuple(sorted({f"{text.slug(rng, 1)}_{rng.choice(_VIEWS)}" for _ in range(16)}))
    return (
        Attribute(IDENTIFIER_ATTRIBUTE, IDENTIFIER, group="technical"),
        Attribute("name", TEXT, localizable=True),
        Attribute("description", TEXTAREA, localizable=True, scopable=True, text="description"),
        Attribute("tagline", TEXT, scopable=True, text="tagline"),
        Attribute("ean", TEXT, group="technical", text="ean"),
        Attribute("supplier_ref", TEXT, group="technical", text="code"),
        Attribute("color", SIMPLESELECT, options=_COLORS),
        Attribute("size", SIMPLESELECT, options=_SIZES),
        Attribute("shoe_size", SIMPLESELECT, options=_SHOE_SIZES),
        Attribute("collection", MULTISELECT, options=_COLLECTIONS),
        Attribute("main_fabric", REFERENCE_DATA_SIMPLESELECT, reference_data_name="fabrics", options=_FABRICS),
        Attribute("fabrics", REFERENCE_DATA_MULTISELECT, reference_data_name="fabrics", options=_FABRICS),
        Attribute("weight", METRIC, group="technical", decimals_allowed=True, metric_family="Weight",
                  low=1, high=5000),
        Attribute("length", METRIC, group="technical", decimals_allowed=True, metric_family="Length",
                  low=1, high=300),
        Attribute("power", METRIC, group="technical", metric_family="Power", low=5, high=3000),
        Attribute("volume", METRIC, group="technical", decimals_allowed=True, metric_family="Volume",
                  low=1, high=2000),
        Attribute("price", PRICE_COLLECTION, decimals_allowed=True, low=1, high=900),
        Attribute("msrp", PRICE_COLLECTION, low=5, high=1200),
        Attribute("pieces", NUMBER, low=1, high=48),
        Attribute("eco_score", NUMBER, decimals_allowed=True, low=0, high=99),
        Attribute("warranty_years", NUMBER, scopable=True, low=1, high=10),
        Attribute("eco_friendly", BOOLEAN),
        Attribute("release_date", DATE, scopable=True),
        Attribute("image", IMAGE, group="media", extension="jpg"),
        Attribute("user_manual", FILE, group="media", localizable=True, extension="pdf"),
        Attribute("packshots", ASSET_COLLECTION, group="media", options=assets),
        Attribute("designer", REFERENCE_ENTITY, options=designers),
        Attribute("certifications", REFERENCE_ENTITY_COLLECTION, options=_CERTIFICATIONS),
        Attribute("nutrition", TABLE, columns=(
            TableColumn("ingredient", "select", _INGREDIENTS),
            TableColumn("quantity", "number"),
            TableColumn("allergen", "boolean"),
            TableColumn("note", "text"),
        )),
        Attribute("spare_part", PRODUCT_LINK),
    )


def _labels(text: TextPool, rng: random.Random, locales: tuple[str, ...]) -> dict[str, str]:
    return {locale: text.name(locale, rng, emoji=0.0) for locale in locales}


_FAMILIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("clothing", ("name", "description", "tagline", "color", "size", "collection", "main_fabric", "fabrics",
                  "price", "weight", "image", "packshots", "designer", "release_date", "eco_friendly",
                  "ean", "supplier_ref")),
    ("shoes", ("name", "description", "color", "shoe_size", "collection", "main_fabric", "price", "msrp",
               "weight", "image", "certifications", "ean", "spare_part")),
    ("electronics", ("name", "description", "tagline", "color", "power", "length", "weight", "price",
                     "user_manual", "warranty_years", "ean", "eco_score", "image", "certifications",
                     "spare_part")),
    ("accessories", ("name", "description", "color", "collection", "image", "price", "weight", "ean",
                     "designer", "packshots", "length")),
    ("food", ("name", "description", "nutrition", "weight", "volume", "price", "pieces", "eco_friendly",
              "release_date", "ean", "image", "eco_score")),
)

_REQUIRED = {
    "ecommerce": ("name", "description", "price", "image"),
    "mobile": ("name", "image"),
    "print": ("name", "description"),
}


def _variants() -> tuple[FamilyVariant, ...]:
    return (
        FamilyVariant("clothing_color_size", "clothing", (
            VariantLevel(("color",), ("color", "image", "packshots")),
            VariantLevel(("size",), (IDENTIFIER_ATTRIBUTE, "size", "ean", "weight")),
        )),
        FamilyVariant("clothing_size", "clothing", (
            VariantLevel(("size",), (IDENTIFIER_ATTRIBUTE, "size", "ean", "weight", "supplier_ref")),
        )),
        FamilyVariant("shoes_size", "shoes", (
            VariantLevel(("shoe_size",), (IDENTIFIER_ATTRIBUTE, "shoe_size", "ean", "weight")),
        )),
        FamilyVariant("accessories_color", "accessories", (
            VariantLevel(("color",), (IDENTIFIER_ATTRIBUTE, "color", "ean", "image")),
        )),
        FamilyVariant("electronics_color_power", "electronics", (
            VariantLevel(("color",), ("color", "image")),
            VariantLevel(("power",), (IDENTIFIER_ATTRIBUTE, "power", "ean", "weight")),
        )),
    )


_DEPARTMENTS = ("men", "women", "kids", "accessories", "electronics", "home", "food", "sports")


def _categories(rng: random.Random, text: TextPool, locales: tuple[str, ...]) -> dict[str, Category]:
    categories: dict[str, Category] = {}

    def add(code: str, parent: str | None) -> None:
        categories[code] = Category(code, parent, _labels(text, rng, locales))

    add("master", None)
    for department in rng.sample(_DEPARTMENTS, rng.randint(4, 6)):
        code = f"master_{department}"
        add(code, "master")
        for _ in range(rng.randint(2, 4)):
            child = f"{code}_{text.slug(rng, 1)}"
            if child not in categories:
                add(child, code)
    add("supplier", None)
    for _ in range(rng.randint(3, 5)):
        child = f"supplier_{text.slug(rng, 1)}"
        if child not in categories:
            add(child, "supplier")
    return categories


def build_structure(rng: random.Random, text: TextPool, channels: tuple[Channel, ...] = DEFAULT_CHANNELS,
                    *, shape: CatalogShape | None = None) -> CatalogStructure:
    """Draw a catalog structure from ``rng``: fixed attribute and family shapes, seeded codes and labels.

    With ``shape`` (a catalog file, :mod:`.shape`), its channels, attributes and families instead, without
    family variants; categories, groups and association types are drawn as for the kit's own catalog.
    """
    if shape is not None:
        channels = shape.channels
    locales = tuple(dict.fromkeys(loc for channel in channels for loc in channel.locales))
    families: dict[str, Family] = {}
    variants: dict[str, FamilyVariant] = {}
    if shape is None:
        attributes = {a.code: a for a in _attributes(rng, text)}
        for code, attrs in _FAMILIES:
            members = (IDENTIFIER_ATTRIBUTE, *attrs)
            requirements = {
                channel.code: (IDENTIFIER_ATTRIBUTE, *(a for a in _REQUIRED.get(channel.code, ("name",))
                                                       if a in members))
                for channel in channels
            }
            families[code] = Family(code, members, requirements, _labels(text, rng, locales))
        variants = {v.code: v for v in _variants() if v.family in families}
    else:
        attributes, families = shape.materialise(rng, text)
    categories = _categories(rng, text, locales)
    groups = {
        code: Group(code, kind, _labels(text, rng, locales))
        for code, kind in (
            (f"promotion_{rng.choice(('summer', 'winter', 'spring'))}_{rng.randint(2020, 2026)}", "RELATED"),
            (f"related_{text.slug(rng, 1)}", "RELATED"),
            (f"xsell_{text.slug(rng, 1)}", "X_SELL"),
            (f"bundle_{text.slug(rng, 1)}", "RELATED"),
        )
    }
    association_types = {
        t.code: t
        for t in (AssociationType("X_SELL"), AssociationType("UPSELL"), AssociationType("SUBSTITUTION"),
                  AssociationType("PACK"), AssociationType("PRODUCTSET", quantified=True),
                  AssociationType("SPARE_PARTS_SET", quantified=True))
    }
    if shape is None:
        return CatalogStructure(channels, attributes, families, variants, categories, groups, association_types)
    editable = tuple(code for code, a in attributes.items() if code != shape.identifier_attribute
                     and a.type not in (IDENTIFIER, PRODUCT_LINK))
    return CatalogStructure(channels, attributes, families, variants, categories, groups, association_types,
                            identifier_attribute=shape.identifier_attribute, familyless=False,
                            mass_edit_attributes=editable)
