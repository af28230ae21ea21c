"""The décantation and the follow-up: /decantation <code> <days>, /followup <code> <date>."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes


async def on_decantation(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/decantation <code> <days>: how long after finishing the ninth moment comes."""


async def on_followup(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/followup <code> <date>: carriers and authors asked where they stand, that day."""
