"""The archive's public facade: what other plugins import stays there, and nothing inside
the archive imports it (so features can move without touching a dependent plugin)."""

from __future__ import annotations

import grimp

from bankcrm_customer_archive import services

# Every public name services.py offered before the archive was shaped by feature, and the
# search's public API it offers since.
OFFERED = {
    "ADDRESS", "CONTACT", "CORPORATE_ONLY", "CUSTOMER", "CUSTOMER_TAG", "DETAIL_LABELLED",
    "ENTITY_ADDRESS", "ENTITY_CONTACT", "ENTITY_CUSTOMER", "ENTITY_CUSTOMER_TAG",
    "ENTITY_HOLDING", "ENTITY_PRODUCT", "ENTITY_TAG", "HOLDING", "INDIVIDUAL_ONLY", "PLUGIN",
    "PRODUCT", "PROFILE_DETAIL_FIELDS", "REVEALABLE", "SEARCH_KEY", "TAG",
    "AddressIn", "AddressOut", "AddressPatch", "ContactIn", "ContactOut", "ContactPatch",
    "Customer360", "CustomerDetail", "CustomerFilter", "CustomerIn", "CustomerPatch",
    "CustomerReference", "CustomerTagIn", "HoldingIn", "HoldingOut", "HoldingPatch",
    "ProductIn", "ProductOut", "ProductPatch", "Problems", "RevealedAddress",
    "RevealedContact", "RevealedHolding", "RevealedPii", "Section", "SectionOut", "TagIn",
    "TagOut", "TagPatch", "TimelineItem",
    "add_address", "add_contact", "add_holding", "check_amount", "check_identity",
    "check_not_future", "check_person", "check_phone", "core_sections", "count_customers",
    "count_saved_search", "create_customer", "create_product", "create_tag", "customer_360",
    "delete_address", "delete_contact", "delete_customer", "delete_holding", "delete_tag",
    "filter_conditions", "filter_from_json", "get_customer", "get_product",
    "get_saved_search", "kpis", "list_addresses", "list_contacts", "list_customer_tags",
    "list_holdings", "list_products", "list_saved_searches", "list_tags", "mask_account",
    "mask_email", "mask_phone", "mask_street", "refresh_aum", "refresh_text_keys",
    "reveal_customer", "run_saved_search", "search_customers", "search_statement",
    "tag_customer", "untag_customer", "update_address", "update_contact", "update_customer",
    "update_holding", "update_product", "update_tag",
    # Contracts, for sales' contracts from won deals.
    "ContractIn", "ContractOut", "ContractPatch", "create_contract", "get_contract",
    "list_contracts", "update_contract",
}  # fmt: skip


def test_the_facade_still_offers_every_public_name() -> None:
    assert sorted(OFFERED - set(services.__all__)) == []
    missing = [name for name in services.__all__ if not hasattr(services, name)]
    assert missing == []
    assert not [name for name in services.__all__ if name.startswith("_")]


def test_nothing_inside_the_archive_imports_the_facade() -> None:
    graph = grimp.build_graph("bankcrm_customer_archive", cache_dir=None)
    importers = graph.find_modules_that_directly_import("bankcrm_customer_archive.services")
    assert sorted(m for m in importers if ".tests." not in m and not m.endswith("conftest")) == []
