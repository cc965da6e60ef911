"""A Faker provider of PIM-flavoured data, for receivers' own tests.

>>> from faker import Faker
>>> from akeneo_events_testkit.faker_provider import PimProvider
>>> fake = Faker()
>>> fake.add_provider(PimProvider)
>>> fake.seed_instance(1)
>>> product = fake.pim_product("saas", uuid_mode=True)
>>> "uuid" in product and "identifier" not in product
True

Every value has the exact shape the PIM sends (events-api-facts.md section 7), and follows Faker's seeding:
the same ``seed_instance`` gives the same data. Products and models come from a small :class:`Catalog`
drawn for each call, so they are complete and coherent (families, variants, associations, media links).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from faker.providers import BaseProvider

from ..versions import DEFAULT_PROFILE, Action, AuthorType, PimVersion, format_event_datetime, get_profile
from .activity import DEFAULT_CONNECTIONS, DEFAULT_USERS
from .catalog import DEFAULT_PIM_URL, Catalog, new_uuid4
from .values import METRIC_FAMILIES, format_c_date, media_file_key, metric_data, price_data

__all__ = ["PimProvider"]

_CODE_PARTS = ("main", "color", "size", "material", "weight", "name", "description", "care", "origin",
               "power", "battery", "season", "fit", "pattern", "width", "height", "brand", "warranty")
_FILE_STEMS = ("sunglasses", "front_view", "packshot", "user_guide", "label", "detail", "back_view")
_EPOCH_LOW = 1_577_836_800  # 2020-01-01
_EPOCH_HIGH = 1_798_761_599  # 2026-12-31


class PimProvider(BaseProvider):
    """Fake Akeneo PIM data: identifiers, attribute codes, values and whole products, models and events.

    Usable as ``fake.add_provider(PimProvider)``; every method draws from the Faker instance's RNG.
    """

    @property
    def _rng(self) -> random.Random:
        rng: random.Random = self.generator.random
        return rng

    def pim_identifier(self) -> str:
        """A product identifier (SKU) as catalogs have them: ``1111111304``, ``CAP-1042`` or ``linen_shirt_7``."""
        rng = self._rng
        style = rng.random()
        if style < 0.45:
            return str(rng.randint(10**9, 10**10 - 1))
        if style < 0.75:
            return f"{rng.choice(_CODE_PARTS)[:4].upper()}-{rng.randint(1000, 9999)}"
        return f"{rng.choice(_CODE_PARTS)}_{rng.choice(_CODE_PARTS)}_{rng.randint(1, 999)}"

    def pim_attribute_code(self) -> str:
        """An attribute code: lowercase ASCII words joined by ``_`` (``main_color``)."""
        rng = self._rng
        return "_".join(rng.sample(_CODE_PARTS, rng.randint(1, 2)))

    def pim_metric(self, family: str = "Weight", *, decimals: bool = True, symbol: bool = False) -> dict[str, Any]:
        """A metric value's data: ``{"amount": "800.0000", "unit": "GRAM"}``; ``symbol=True`` adds the unit
        symbol as SaaS does since May 2026 (facts section 0); ``decimals=False`` gives an int amount."""
        if family not in METRIC_FAMILIES:
            raise ValueError(f"unknown measurement family {family!r}: use one of {', '.join(METRIC_FAMILIES)}")
        return metric_data(self._rng, METRIC_FAMILIES[family], decimals=decimals, symbol=symbol)

    def pim_price_collection(self, currencies: Sequence[str] = ("EUR", "USD"), *,
                             decimals: bool = True) -> list[dict[str, Any]]:
        """A price collection's data: ``[{"amount": "2.00", "currency": "EUR"}, ...]`` (2 decimals, or ints)."""
        return price_data(self._rng, currencies, decimals=decimals)

    def pim_date_value(self) -> str:
        """A date value's data in PHP's ``'c'`` format: ``2021-04-29T00:00:00+00:00``."""
        return format_c_date(self._rng.randint(_EPOCH_LOW // 86_400, _EPOCH_HIGH // 86_400) * 86_400)

    def pim_media_file_key(self, filename: str | None = None) -> str:
        """A media file key: ``9/9/c/c/<40 hex>_sunglasses.jpg``."""
        return media_file_key(self._rng, filename or f"{self._rng.choice(_FILE_STEMS)}.jpg")

    def _catalog(self, profile: PimVersion | str, uuid_mode: bool | None, pim_url: str) -> tuple[Catalog, int]:
        """A small catalog of its own seed (drawn from Faker's RNG), and the time it was last saved by."""
        rng = random.Random(self._rng.getrandbits(64))
        now = rng.randint(_EPOCH_LOW, _EPOCH_HIGH)
        catalog = Catalog(rng, profile=profile, uuid_mode=uuid_mode, now=now, products=2, product_models=1,
                          pim_url=pim_url)
        return catalog, now

    def pim_product(self, profile: PimVersion | str = DEFAULT_PROFILE, *, uuid_mode: bool | None = None,
                    pim_url: str = DEFAULT_PIM_URL) -> dict[str, Any]:
        """A complete product (simple or variant) in the connector format of ``profile`` (facts 4 and 7)."""
        catalog, _ = self._catalog(profile, uuid_mode, pim_url)
        key = catalog.random_product_key()
        assert key is not None
        current = catalog.current(key)
        assert current is not None
        return current[1]

    def pim_product_model(self, profile: PimVersion | str = DEFAULT_PROFILE, *,
                          pim_url: str = DEFAULT_PIM_URL) -> dict[str, Any]:
        """A complete product model (root or sub-model): no ``enabled``, ``family_variant`` set."""
        catalog, _ = self._catalog(profile, None, pim_url)
        key = catalog.random_product_model_key()
        assert key is not None
        current = catalog.current(key)
        assert current is not None
        return current[1]

    def pim_event(self, action: Action | str = Action.PRODUCT_UPDATED, profile: PimVersion | str = DEFAULT_PROFILE,
                  *, uuid_mode: bool | None = None, pim_url: str = DEFAULT_PIM_URL) -> dict[str, Any]:
        """One event as in ``{"events": [...]}``, keys in the PIM's order (facts section 4)."""
        action = Action(action)
        catalog, now = self._catalog(get_profile(profile, uuid_mode=uuid_mode), None, pim_url)
        rng = catalog.rng
        when = now + rng.randint(0, 30 * 86_400)
        resource: dict[str, Any]
        if action is Action.PRODUCT_CREATED:
            resource = catalog.create_product(when, rng=rng).snapshot
        elif action is Action.PRODUCT_MODEL_CREATED:
            resource = catalog.create_product_model(when, rng=rng, variants=False)[0].snapshot
        elif action.entity == "product":
            key = catalog.random_product_key(rng)
            assert key is not None
            if action.is_removal:
                resource = catalog.remove_product(key).snapshot
            else:
                saved = catalog.update_product(key, when, rng=rng)
                assert saved is not None  # a random change always changes something
                resource = saved.snapshot
        else:
            key = catalog.random_product_model_key(rng)
            assert key is not None
            if action.is_removal:
                resource = catalog.remove_product_model(key)[-1].snapshot
            else:
                resource = catalog.update_product_model(key, when, rng=rng).snapshot
        roll = rng.random()
        if roll < 0.6:
            author, author_type = rng.choice(DEFAULT_USERS), AuthorType.UI
        elif roll < 0.95:
            author, author_type = rng.choice(DEFAULT_CONNECTIONS), AuthorType.API
        else:
            author, author_type = "system", AuthorType.SYSTEM
        return {
            "action": action.value,
            "event_id": new_uuid4(rng),
            "event_datetime": format_event_datetime(when),
            "author": author,
            "author_type": author_type.value,
            "pim_source": catalog.pim_url,
            "data": {"resource": resource},
        }
