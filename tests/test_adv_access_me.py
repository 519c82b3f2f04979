"""Adversary test: a provider's account (an organisation outside the mechanism) is told only
the compartments of its own material. It failed on the code before its fix."""

from __future__ import annotations

from tests.webfixtures import Site


def test_me_names_to_a_provider_only_the_compartments_of_its_own_collections(site: Site) -> None:
    """`GET /api/v1/me` told a provider's account every compartment of the home (it holds
    them all as a formality, held to its provider by `provider_id`): the names of the
    compartments of other providers' material, which every other answer hides from it."""
    me = site.api("provider").get("/api/v1/me").json()
    assert me["role"] == "provider" and me["compartments"] == ["blue"]
    # Negative controls: staff are told their grants, the administrator every compartment.
    assert site.api("analyst").get("/api/v1/me").json()["compartments"] == ["blue"]
    assert site.api("admin").get("/api/v1/me").json()["compartments"] == [
        "blue",
        "default",
        "red",
    ]
