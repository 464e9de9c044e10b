"""Pure maths: no database, no web. Numbers in, dataclasses out."""
