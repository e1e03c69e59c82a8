"""What goes wrong reading an image: a short reason (one file among many) or a sentence naming the file."""

from __future__ import annotations


class ImageReadError(ValueError):
    """An image that cannot be read or used; the message is one readable sentence naming the file."""


class ImageSkipped(Exception):
    """This file cannot be used; the message is a short reason the caller puts after the file's name
    ("damaged or truncated (…)"); `sentence(name)` makes it one sentence."""

    def __init__(self, reason: str, verb: str = "is") -> None:
        super().__init__(reason)
        self.verb = verb  # what joins the name to the reason: "is", "has", or "" for "cannot be read (…)"

    def sentence(self, name: str) -> str:
        return f"{name} {self.verb} {self}." if self.verb else f"{name} {self}."
