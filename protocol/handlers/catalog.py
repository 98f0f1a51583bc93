"""The catalog and order configuration a POS reads (menus, items, order types,
charges, taxes, branches, the next order number), scoped to the token's branch."""

from typing import Optional

import pydantic

from .. import catalog, shapes
from ..validation import Body
from .base import APIHandler, path_id


class PriceQuery(Body):
    """The order type prices are asked for: an id, or a slug or name."""
    order_type_id: Optional[str] = pydantic.Field(None, max_length=50)
    order_type: Optional[str] = pydantic.Field(None, max_length=50)


class CatalogHandler(APIHandler):
    tags = ("catalog",)

    async def answer(self, fn, *args, **kwargs):
        self.write_json(await self.actor_run(fn, *args, **kwargs))

    def order_type(self):
        """The order type a price is asked for: ?order_type_id= or ?order_type= (a slug)."""
        query = self.query(PriceQuery)
        return query.order_type_id or query.order_type


class PricedHandler(CatalogHandler):
    queries = {"get": PriceQuery}


class MenusHandler(CatalogHandler):
    responses = {"get": list[shapes.Menu]}
    async def get(self):
        """The branch's menus: [{id, menu_name, sort_order}]."""
        await self.answer(catalog.menus)


class CategoriesHandler(CatalogHandler):
    responses = {"get": list[shapes.Category]}
    async def get(self):
        """The branch's item categories with their item count:
        [{id, count, category_name, sort_order}]."""
        await self.answer(catalog.categories)


class ItemsHandler(PricedHandler):
    responses = {"get": list[shapes.Item]}
    async def get(self):
        """The branch's items, each with prices[{order_type_id, final_price}], variations,
        modifier_groups and their counts; ?order_type_id= (or order_type slug) adds
        price_for_order_type and prices variations and options for that order type."""
        await self.answer(catalog.items, self.order_type())


class CategoryItemsHandler(PricedHandler):
    responses = {"get": list[shapes.Item]}
    async def get(self, category_id):
        """The items of one category (as /pos/items); 404 for another branch's category."""
        await self.answer(catalog.items, self.order_type(), category_id=int(category_id))


class MenuItemsHandler(PricedHandler):
    responses = {"get": list[shapes.Item]}
    async def get(self, menu_id):
        """The items of one menu (as /pos/items); 404 for another branch's menu."""
        await self.answer(catalog.items, self.order_type(), menu_id=int(menu_id))


class ItemHandler(PricedHandler):
    responses = {"get": shapes.Item}
    async def get(self, item_id):
        """One item (as a row of /pos/items); 404 for another branch's item."""
        await self.answer(catalog.item, int(item_id), self.order_type())


class ItemVariationsHandler(PricedHandler):
    responses = {"get": list[shapes.Variation]}
    async def get(self, item_id):
        """An item's variations: [{id, variation, price, menu_item_id}]; with
        ?order_type_id= the price is that order type's."""
        await self.answer(catalog.variations, int(item_id), self.order_type())


class ItemModifierGroupsHandler(PricedHandler):
    responses = {"get": list[shapes.ModifierGroup]}
    async def get(self, item_id):
        """An item's modifier groups: [{id, name, description, pivot{is_required,
        allow_multiple_selection}, options[{id, name, price, is_available, is_preselected,
        sort_order}]}]; with ?order_type_id= option prices are that order type's."""
        await self.answer(catalog.modifier_groups, int(item_id), self.order_type())


class OrderTypesHandler(CatalogHandler):
    responses = {"get": list[shapes.OrderType]}
    async def get(self):
        """The branch's order types: [{id, slug, order_type_name, type}]."""
        await self.answer(catalog.order_types)


class ExtraChargesHandler(CatalogHandler):
    responses = {"get": list[shapes.ExtraCharge]}
    async def get(self, order_type):
        """The extra charges enabled for an order type (id, slug, name or type):
        [{id, charge_name, charge_type, charge_value, order_types, is_enabled}];
        404 for an unknown order type."""
        await self.answer(catalog.extra_charges, order_type)


class DeliveryPlatformsHandler(CatalogHandler):
    responses = {"get": list[shapes.DeliveryPlatform]}
    async def get(self):
        """The branch's delivery platforms: [{id, name, logo, logo_url}]."""
        await self.answer(catalog.delivery_platforms)


class ActionsHandler(CatalogHandler):
    responses = {"get": list[shapes.Action]}
    async def get(self):
        """The order actions (draft, kot, bill, cancel, pay): [{key, label, effect}]."""
        await self.answer(catalog.actions)


class TaxesHandler(CatalogHandler):
    responses = {"get": list[shapes.Tax]}
    async def get(self):
        """The restaurant's taxes: [{id, tax_name, tax_percent}]."""
        await self.answer(catalog.taxes)


class RestaurantsHandler(CatalogHandler):
    responses = {"get": list[shapes.Restaurant]}
    async def get(self):
        """The user's restaurant: [{id, name, hash}]."""
        await self.answer(catalog.restaurants)


class BranchesHandler(CatalogHandler):
    responses = {"get": list[shapes.Branch]}
    async def get(self):
        """The branches the user may work in: [{id, name, address}]."""
        await self.answer(catalog.branches)


class OrderNumberHandler(CatalogHandler):
    responses = {"get": shapes.OrderNumber}
    async def get(self):
        """The branch's next order number, not used up: [157, "ORD-20260115-157"]."""
        await self.answer(catalog.next_order_number, self.now())


default_handlers = [
    (r"/pos/menus", MenusHandler),
    (r"/pos/categories", CategoriesHandler),
    (r"/pos/items", ItemsHandler),
    (r"/pos/items/category/%s" % path_id("category_id"), CategoryItemsHandler),
    (r"/pos/items/menu/%s" % path_id("menu_id"), MenuItemsHandler),
    (r"/pos/items/%s" % path_id("item_id"), ItemHandler),
    (r"/pos/items/%s/variations" % path_id("item_id"), ItemVariationsHandler),
    (r"/pos/items/%s/modifier-groups" % path_id("item_id"), ItemModifierGroupsHandler),
    (r"/pos/order-types", OrderTypesHandler),
    (r"/pos/extra-charges/(?P<order_type>[^/]+)", ExtraChargesHandler),
    (r"/pos/actions", ActionsHandler),
    (r"/pos/taxes", TaxesHandler),
    (r"/pos/restaurants", RestaurantsHandler),
    (r"/pos/branches", BranchesHandler),
    (r"/pos/get-order-number", OrderNumberHandler),
]
