"""What people read, without Telegram: the words, the synthesis as messages, documents and
pictures. `bot/` sends what this package writes; nothing here imports `telegram`."""
