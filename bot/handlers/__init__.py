"""The thin handlers: each `on_*` function reads an update, calls a use case and hands its
result to a view (`bot.views`). Which update goes where is declared in `bot.app.route`."""
