"""The business page: opening hours, closed dates and service prices changed by an owner in
the project's business.yml, line by line, the rest of the file (and its comments) kept."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from parlez.console.roles import Role
from tests.conftest import REPO
from tests.console.conftest import Console

pytestmark = pytest.mark.anyio

ORIGINAL = (REPO / "business.yml").read_text(encoding="utf-8")


@pytest.fixture
def business(console: Console) -> Path:
    path: Path = console.app.ctx.state.project / "business.yml"
    path.write_text(ORIGINAL, encoding="utf-8")
    return path


def form_of(page: str) -> dict[str, str]:
    """The business form's fields as the page fills them (a checkbox only when checked, as
    a browser sends it)."""
    fields = dict(re.findall(r'<input name="([^"]+)"[^>]*value="([^"]*)"', page))
    fields |= dict(
        re.findall(r'<input type="checkbox" name="([^"]+)" value="([^"]*)"[^>]*checked', page)
    )
    fields["digest"] = re.search(r'name="digest" value="([^"]*)"', page).group(1)  # type: ignore[union-attr]
    dates = re.search(r'<textarea id="closed_dates" name="closed_dates"[^>]*>([^<]*)<', page)
    fields["closed_dates"] = dates.group(1) if dates else ""
    return fields


async def test_hours_and_a_price_change_their_lines_and_nothing_else(
    console: Console, business: Path
) -> None:
    browser = await console.sign_in(Role.OWNER)
    page = (await browser.get("/console/business")).text
    form = form_of(page)
    assert form["hours_saturday"] == "10:00-16:00" and form["price_0"] == "35"
    form |= {"hours_saturday": "10:00-17:00", "hours_sunday": "11:00-15:00", "price_0": "38"}
    reply = await browser.post("/console/business", form)
    assert reply.status == 303 and reply.headers["location"] == "/console/business?saved=3"
    assert business.read_text() == ORIGINAL.replace(
        '  saturday: ["10:00-16:00"]\n',
        '  saturday: ["10:00-17:00"]\n  sunday: ["11:00-15:00"]\n',
    ).replace("    duration: 45\n    price: 35\n", "    duration: 45\n    price: 38\n")
    audit = (await browser.get("/console/audit")).text
    assert "hours.saturday" in audit and "services.haircut.price" in audit


async def test_a_wrong_value_or_a_stale_page_changes_nothing(
    console: Console, business: Path
) -> None:
    browser = await console.sign_in(Role.ADMIN)
    form = form_of((await browser.get("/console/business")).text)
    wrong = await browser.post("/console/business", {**form, "hours_monday": "9-18"})
    assert wrong.status == 400 and "is not a range such as 09:00-18:00" in wrong.text
    late = await browser.post("/console/business", {**form, "hours_monday": "18:00-09:00"})
    assert late.status == 400 and "ends before it starts" in late.text
    price = await browser.post("/console/business", {**form, "price_1": "cheap"})
    assert price.status == 400 and "is not a number" in price.text
    business.write_text(ORIGINAL.replace("Maple Street Studio", "Maple Studio", 1))
    stale = await browser.post("/console/business", {**form, "hours_sunday": "11:00-15:00"})
    assert stale.status == 409 and "changed since this page was opened" in stale.text
    assert business.read_text() == ORIGINAL.replace("Maple Street Studio", "Maple Studio", 1)


async def test_an_agent_may_not_change_the_business(console: Console, business: Path) -> None:
    browser = await console.sign_in(Role.AGENT)
    assert (await browser.get("/console/business")).status == 403
    assert (await browser.post("/console/business", {"hours_sunday": "1"})).status == 403
    assert business.read_text() == ORIGINAL


async def test_the_catalogue_is_edited_items_added_and_removed_in_place(
    console: Console, business: Path
) -> None:
    """A price that starts somewhere, a description, a product added and a service removed:
    each written where it belongs, the other items' lines and comments untouched."""
    browser = await console.sign_in(Role.OWNER)
    form = form_of((await browser.get("/console/business")).text)
    assert form["from_1"] == "1" and "from_0" not in form  # colouring's price starts at 60
    assert form["product_price_0"] == "18"
    form |= {
        "from_2": "1",
        "description_2": "Washed and styled.",
        "remove_3": "1",
        "product_price_0": "19.5",
        "new_product_name": "hair wax",
        "new_product_price": "12",
        "new_service_name": "fringe trim",
        "new_service_duration": "10",
        "new_service_price": "8",
    }
    reply = await browser.post("/console/business", form)
    assert reply.status == 303, reply.text
    text = business.read_text()
    blow_dry = "    duration: 30\n    price: 25\n"
    assert blow_dry + "    price_from: true\n    description: Washed and styled.\n" in text
    assert "beard trim" not in text and "Bartschnitt" not in text
    assert "    price: 19.5\n" in text
    assert text.endswith("    price: 19.5\n  - name: hair wax\n    price: 12\n"), text[-300:]
    assert "  - name: fringe trim\n    duration: 10\n    price: 8\n" in text
    # what the assistant reads
    from actions.business import business as settings_of

    settings = settings_of(business)
    assert [s.name for s in settings.services] == [
        "haircut",
        "colouring",
        "blow-dry",
        "fringe trim",
    ]
    assert [p.price for p in settings.products] == [19.5, 12]
    # the comments of the catalogue stay
    assert "# What the studio sells over the counter" in text
    audit = (await browser.get("/console/audit")).text
    assert "services.beard trim removed" in audit and "products.hair wax added" in audit


async def test_a_name_already_used_or_a_service_without_minutes_is_refused(
    console: Console, business: Path
) -> None:
    browser = await console.sign_in(Role.ADMIN)
    form = form_of((await browser.get("/console/business")).text)
    taken = await browser.post("/console/business", {**form, "new_product_name": "Haircut"})
    assert taken.status == 400 and "already a service or product called" in taken.text
    minutes = await browser.post("/console/business", {**form, "new_service_name": "perm"})
    assert minutes.status == 400 and "needs its duration in minutes" in minutes.text
    assert business.read_text() == ORIGINAL


async def test_an_items_names_descriptions_and_aliases_are_edited_per_language(
    console: Console, business: Path
) -> None:
    """The haircut's page: its French name changed inside its braces, a Spanish description
    changed, a German one taken out, an Italian-less business offering no Italian, an
    alias added; only those lines change."""
    browser = await console.sign_in(Role.ADMIN)
    business_page = (await browser.get("/console/business")).text
    assert 'href="/console/business/services/haircut"' in business_page
    page = (await browser.get("/console/business/services/haircut")).text
    assert 'name="name_fr" lang="fr" value="coupe"' in page and 'name="name_it"' not in page
    form = dict(re.findall(r'<input name="([^"]+)" lang="\w+" value="([^"]*)"', page))
    form |= {
        "digest": re.search(r'name="digest" value="([^"]*)"', page).group(1),  # type: ignore[union-attr]
        "aliases": "cut, hair cut, trim, coupe de cheveux, Haare schneiden, corte, Trim, chop",
        "name_fr": "coupe femme ou homme",
        "description_es": "Para todos, con lavado y peinado.",
        "description_de": "",
    }
    reply = await browser.post("/console/business/services/haircut", form)
    assert reply.status == 303, reply.text
    assert reply.headers["location"] == "/console/business/services/haircut?saved=4"
    assert business.read_text(encoding="utf-8") == ORIGINAL.replace(
        "    aliases: [cut, hair cut, trim, coupe de cheveux, Haare schneiden, corte]\n",
        '    aliases: ["cut", "hair cut", "trim", "coupe de cheveux", "Haare schneiden", '
        '"corte", "chop"]\n',
    ).replace(
        "{fr: coupe, de: Haarschnitt",
        "{fr: coupe femme ou homme, de: Haarschnitt",
    ).replace("      de: Für Damen, Herren und Kinder, mit Waschen und Styling.\n", "").replace(
        "      es: Para mujeres, hombres y niños, con lavado y peinado.\n",
        "      es: Para todos, con lavado y peinado.\n",
    )
    audit = (await (await console.sign_in(Role.OWNER)).get("/console/audit")).text
    assert "services.haircut.names.fr" in audit


async def test_a_first_translation_is_written_as_the_file_writes_them(
    console: Console, business: Path
) -> None:
    """The blow-dry has names but no descriptions: its first description makes the block;
    a product without names gets them in braces."""
    browser = await console.sign_in(Role.OWNER)
    digest = re.search(  # type: ignore[union-attr]
        r'name="digest" value="([^"]*)"', (await browser.get("/console/business")).text
    ).group(1)
    reply = await browser.post(
        "/console/business/services/blow-dry",
        {"digest": digest, "description_fr": "Brushing et mise en forme."},
    )
    assert reply.status == 303, reply.text
    text = business.read_text(encoding="utf-8")
    assert "    price: 25\n    descriptions:\n      fr: Brushing et mise en forme.\n" in text
    product = await browser.get("/console/business/products/nope")
    assert product.status == 404
    assert (await browser.get("/console/business/staff/haircut")).status == 404
    agent = await console.sign_in(Role.AGENT)
    assert (await agent.get("/console/business/services/haircut")).status == 403
