"""Walking participants through the journey as a person would: by button label or by text."""

from __future__ import annotations

from bot.emulator import BotApiEmulator, EmulatedUser
from flows.journey import Prompt

CONSENT_LABEL = {"fr": "✅ J'accepte", "en": "✅ I agree"}
LANGUAGE_LABEL = {"fr": "Français", "en": "English"}


def reflection(prompt: Prompt, language: str) -> str:
    """A text answer that also exercises escaping."""
    return f"{language}: à propos de {prompt.id}, <b>gras</b> & <script>x</script>"


async def onboard(
    emulator: BotApiEmulator, user: EmulatedUser, code: str, *, category: str, language: str
) -> None:
    """Open the join link, consent, pick a category (by label) and a language."""
    await user.send(f"/start {code}")
    await emulator.wait_idle()
    await user.press(CONSENT_LABEL[language if language in CONSENT_LABEL else "fr"])
    await emulator.wait_idle()
    await user.press(category)
    await emulator.wait_idle()
    await user.press(LANGUAGE_LABEL[language])
    await emulator.wait_idle()


async def answer_prompts(
    emulator: BotApiEmulator, user: EmulatedUser, prompts: list[Prompt], language: str
) -> dict[str, str]:
    """Answer each prompt as shown; returns what should be stored (question id → value)."""
    expected: dict[str, str] = {}
    for index, prompt in enumerate(prompts):
        shown = user.last.text or ""
        assert prompt.text[language] in shown, (prompt.id, shown)
        if prompt.kind == "scale":
            value = str(1 + index % 5)
            await user.press(value)
        elif prompt.kind == "choice":
            option = prompt.options[index % len(prompt.options)]
            value = option.id
            await user.press(option.label[language])
        else:
            value = reflection(prompt, language)
            await user.send(value)
        expected[prompt.id] = value
        await emulator.wait_idle()
    return expected
