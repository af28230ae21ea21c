"""What the review queue flags as possibly identifying someone (flows/identifying.py)."""

from __future__ import annotations

import pytest

from flows.identifying import MASK, Identifying, identifying, mask

NAME, HANDLE, EMAIL, PHONE, LINK = (
    Identifying.NAME,
    Identifying.HANDLE,
    Identifying.EMAIL,
    Identifying.PHONE,
    Identifying.LINK,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Écrire à jean.dupont@example.org pour le local", (EMAIL,)),
        ("Demandez à @marie_b, elle sait", (HANDLE,)),
        ("Appelez le 06 12 34 56 78", (PHONE,)),
        ("Appelez le 06.12.34.56.78 le matin", (PHONE,)),
        ("Appelez le 0612345678", (PHONE,)),
        ("Call +33 6 12 34 56 78 today", (PHONE,)),
        ("Call +33 (0)6 12 34 56 78 today", (PHONE,)),
        ("Composer le 0033 612345678", (PHONE,)),
        ("Ring +1 415-555-0132", (PHONE,)),
        ("Voir https://example.org/page?id=3", (LINK,)),
        ("Voir www.mairie-vallee.fr", (LINK,)),
        ("Le site coop-vallee.fr dit tout", (LINK,)),
        ("Rejoindre t.me/coopvallee", (LINK,)),
        ("Que Mme Martin reçoive les associations", (NAME,)),
        ("Que M. Dupont ouvre la salle", (NAME,)),
        ("Que Monsieur Durand signe", (NAME,)),
        ("On a vu Jean Dupont hier", (NAME,)),
        ("Le projet de Jean-Pierre Martin avance", (NAME,)),
        ("We ask Peter Smith to help", (NAME,)),
        ("Contact : Jean Dupont", (NAME,)),
    ],
)
def test_each_kind_is_found(text: str, expected: tuple[Identifying, ...]) -> None:
    assert identifying(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Un guichet commun à Saint-Denis",
        "La mairie de Saint-Denis ouvre ses salles",
        "Le bailleur Seine Saint-Denis Habitat répond vite",
        "Travailler avec Pôle Emploi et France Travail",
        "Saisir le Conseil Départemental de la Gironde",
        "Passer par La Poste ou la Croix-Rouge",
        "Toute l'Île-de-France est concernée",
        "Créer un guichet commun ESS & collectivités",
        "En 2024, 15 000 euros pour 12 projets, n°1234",
        "Au 75001 Paris, du lundi au vendredi, 1 2 3 4 5",
        "Réunion le Lundi Matin",
        "Madame la Maire soutient le projet",
        "request 1 n°4321 <b>&",
        "Adresser un courrier, etc. Puis attendre",
        "Jean Dupont est venu.",  # a name opening a sentence is not told from a title
    ],
)
def test_common_places_institutions_and_figures_are_not_flagged(text: str) -> None:
    assert identifying(text) == ()


def test_several_kinds_are_reported_once_each_in_order() -> None:
    text = (
        "Écrire à marie@example.org ou à paul@example.org, appeler le 06 12 34 56 78, "
        "voir https://example.org et demander à @paul_m ou à Mme Martin"
    )
    assert identifying(text) == (NAME, HANDLE, EMAIL, PHONE, LINK)


def test_an_email_is_neither_a_handle_nor_a_link() -> None:
    assert identifying("jean@mairie.fr") == (EMAIL,)
    assert Identifying.LINK not in identifying("écrire à contact@coop-vallee.fr")


def test_mask_hides_the_authors_names_and_every_handle_address_number_and_link() -> None:
    said = (
        "Je suis Camille MARTIN, écrivez-moi à @camille_m ou camille.martin@example.org, "
        "au 06 12 34 56 78 ou au +33 6 12 34 56 78, et voyez https://exemple.fr/page"
    )
    masked = mask(said, ["Camille", "Martin", "camille_m"])
    assert masked.text == (
        f"Je suis {MASK} {MASK}, écrivez-moi à {MASK} ou {MASK}, "
        f"au {MASK} ou au {MASK}, et voyez {MASK}"
    )
    assert masked.kinds == tuple(Identifying)
    assert masked.changed


@pytest.mark.parametrize(
    "text",
    [
        "La mairie de Saint-Denis finance le tiers-lieu.",  # the author is called Denis
        "Nous portons ce projet avec la Mission Locale du Val-de-Marne.",
        "Rencontre le 3/12 à 9h, 12 participants, budget 40 000 €.",
    ],
)
def test_mask_keeps_places_common_words_and_figures(text: str) -> None:
    masked = mask(text, ["Denis", "Dupont", None])
    assert masked.text == text and not masked.changed


def test_mask_takes_a_name_in_any_case_but_never_inside_a_longer_word() -> None:
    assert mask("camille et CAMILLE, pas Camilleri", ["Camille"]).text == (
        f"{MASK} et {MASK}, pas Camilleri"
    )
    assert mask("Jo a dit", ["J"]).text == "Jo a dit"  # a one-letter name masks nothing


def test_mask_takes_each_word_of_a_full_name_and_ignores_accents() -> None:
    """Many write their full name in Telegram's first-name field; some type without
    accents. A common word in a name ("de", "Paris") is not masked on its own."""
    masked = mask("Je suis Marie, Dupont pour les intimes, à Saint-Denis", ["Marie Dupont"])
    assert masked.text == "Je suis […], […] pour les intimes, à Saint-Denis"
    assert mask("Signé : Helene", ["Hélène"]).text == "Signé : […]"
    assert mask("Signé : Hélène", ["Helene"]).text == "Signé : […]"
    assert mask("la mairie de Paris", ["Paris de Lisle"]).text == "la mairie de Paris"
