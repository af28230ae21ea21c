"""Bots written the way python-telegram-bot's own examples write them, for `bench.load`
to measure coopbot against: the same load, the same emulator, side by side."""
