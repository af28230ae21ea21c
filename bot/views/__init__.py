"""What participants, facilitators and organisers read in Telegram, and how it reaches them.

One module per audience or outcome; each takes a `Chat` (who is being written to, in
which language) and what a use case returned, and writes the messages and buttons. The
words come from `reports.text` and the catalogs; handlers build no text.
"""
