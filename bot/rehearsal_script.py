"""What the offline rehearsal's made-up people say and choose: who they are, their
answers, the statements each group writes and how the room votes. Data and small pure
functions, apart from the playing (`bot/rehearsal.py`), which turns them into taps and
messages on the emulator's phones.
"""

from __future__ import annotations

from flows.journey import Prompt

# Three per actor category, in the journey's order (so that no group falls under the
# anonymity threshold): user id, first name, Telegram language.
PARTICIPANTS = (
    (990_011, "Camille", "fr"),
    (990_012, "Alex", "en"),
    (990_013, "Dominique", "fr"),
    (990_014, "Sacha", "fr"),
    (990_015, "Claude", "fr"),
    (990_016, "Morgan", "en"),
    (990_017, "Lou", "en"),
    (990_018, "Charlie", "fr"),
    (990_019, "Noa", "fr"),
    (990_020, "Eden", "fr"),
    (990_021, "Maxime", "en"),
    (990_022, "Andréa", "fr"),
)
PER_CATEGORY = 3
CONSENT = {"fr": "✅ J'accepte", "en": "✅ I agree"}
LANGUAGE = {"fr": "Français", "en": "English"}
DONE = {"fr": "Terminé ✅", "en": "Done ✅"}
AGREE, DISAGREE, PASS = 0, 1, 2
VOTES = {
    "fr": ("👍 D'accord", "👎 Pas d'accord", "🤷 Sans avis"),
    "en": ("👍 Agree", "👎 Disagree", "🤷 Pass"),
}
# Asked after /newsession: the first session's time and place, the territory, and the
# days before the décantation.
SESSION = ("demain 9h", "Salle du conseil, mairie de Saint-Denis", "Plaine Commune", "7")
BROADCAST = "Merci pour cet atelier ! Le relevé de conclusions suit dans la semaine."
PROPOSAL = "Créer un lieu d'accueil commun pour les porteurs de projets du territoire."

# What each category's first member asks of the first other category and commits to, and
# what its second member asks, which the group then turns down in the caucus.
STATEMENTS: dict[str, dict[str, tuple[str, str]]] = {  # category -> kind -> (fr, en)
    "elu": {
        "request": (
            "Nous présenter chaque trimestre l'avancement des projets soutenus, en mots simples.",
            "Brief us every quarter on the projects we support, in plain words.",
        ),
        "commitment": (
            "Répondre aux demandes de rendez-vous des associations sous quinze jours.",
            "Answer the associations' requests for a meeting within a fortnight.",
        ),
        "turned_down": (
            "Faire valider chaque dossier par les élus avant toute réunion technique.",
            "Have elected officials approve every file before any technical meeting.",
        ),
    },
    "agent": {
        "request": (
            "Fixer chaque année des priorités claires, votées en conseil.",
            "Set clear priorities each year, voted in council.",
        ),
        "commitment": (
            "Désigner une personne référente ESS dans chaque service.",
            "Name one contact person for the social economy in each department.",
        ),
        "turned_down": (
            "Ne plus ajouter de nouveaux projets en cours d'année.",
            "Stop adding new projects during the year.",
        ),
    },
    "socio_eco": {
        "request": (
            "Nous associer dès l'écriture des projets, pas seulement à leur financement.",
            "Involve us while projects are written, not only when they are funded.",
        ),
        "commitment": (
            "Présenter nos actions une fois par trimestre aux services concernés.",
            "Present our work to the relevant departments once a quarter.",
        ),
        "turned_down": (
            "Doubler les subventions de fonctionnement dès l'an prochain.",
            "Double the operating grants from next year.",
        ),
    },
    "etat": {
        "request": (
            "Partager le diagnostic du territoire avant de lancer les appels à projets.",
            "Share the territory's assessment before launching calls for projects.",
        ),
        "commitment": (
            "Tenir une permanence mensuelle pour aider à monter les dossiers de financement.",
            "Hold a monthly drop-in session to help put funding applications together.",
        ),
        "turned_down": (
            "Passer par la préfecture pour chaque nouveau partenariat.",
            "Go through the prefecture for every new partnership.",
        ),
    },
}
REFLECTIONS = {
    "fr": [
        "Je viens avec l'envie de mieux comprendre les contraintes de chacun.",
        "Nous nous connaissons surtout par les appels à projets, rarement autour d'un café.",
        "Un cadre clair : qui décide quoi, et comment on se dit les désaccords.",
        "Je me rends compte que j'attends souvent que l'autre fasse le premier pas.",
        "Les délais de paiement des subventions fragilisent les petites structures.",
        "Se voir plus souvent, sur le terrain, pas seulement en réunion.",
    ],
    "en": [
        "I come wanting to understand everyone's constraints better.",
        "We mostly know each other through calls for projects, rarely over coffee.",
        "A clear frame: who decides what, and how we voice disagreement.",
        "I notice I often wait for the other side to make the first move.",
        "Late grant payments put small organisations at risk.",
        "Meeting more often, in the field, not only in meetings.",
    ],
}

SEND, PRESS = "send", "press"
Action = tuple[str, str]  # (SEND, a text) or (PRESS, a button's label)


def statement(category: str, kind: str, language: str) -> str:
    """A statement of `kind` (request, commitment, turned_down) by a member of `category`."""
    french, english = STATEMENTS.get(category, STATEMENTS["socio_eco"])[kind]
    return french if language == "fr" else english


def turned_down() -> set[str]:
    """The texts the groups turn down in the caucus."""
    return {text for texts in STATEMENTS.values() for text in texts["turned_down"]}


def answer(
    prompt: Prompt,
    *,
    category: str,
    member: int,
    number: int,
    seed: int,
    language: str,
    first_other: str,
) -> list[Action]:
    """The taps and messages of participant `number` (1 to 12, the `member`-th of its
    `category`) answering one question; every other one types the figure of a scale
    instead of tapping it. Requests go to the `first_other` category only. `seed` varies
    the answers from one question to the next."""
    if prompt.kind == "scale":
        figure = str(2 + seed % 4)
        return [(SEND if number % 2 else PRESS, figure)]
    if prompt.kind == "choice":
        return [(PRESS, prompt.options[seed % len(prompt.options)].label[language])]
    if prompt.kind == "multi":
        ticked = prompt.options[seed % len(prompt.options)]
        return [(PRESS, "⬜ " + ticked.label[language]), (PRESS, DONE[language])]
    if prompt.kind == "list":
        said: list[Action] = []
        if prompt.statement == "commitment" and member == 0:
            said.append((SEND, statement(category, "commitment", language)))
        if prompt.statement == "request" and prompt.about == first_other and member < 2:
            kind = "request" if member == 0 else "turned_down"
            said.append((SEND, statement(category, kind, language)))
        return [*said, (PRESS, DONE[language])]
    texts = REFLECTIONS[language]
    return [(SEND, texts[seed % len(texts)])]


def room_vote(statement: int, *, group: int, member: int) -> int:
    """How the `member`-th of the `group`-th category votes on the room's `statement`-th
    statement, so that the synthesis has a consensus (every third, from the first: all
    agree), divisive ones (two categories agree, the two others disagree) and uncertain
    ones (a third pass)."""
    if statement % 3 == 0:
        return AGREE
    if statement % 3 == 1:
        return AGREE if group % 2 == 0 else DISAGREE
    return PASS if member == 2 else AGREE
