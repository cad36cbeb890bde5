"""Words in time: the transcript's words placed on the timeline of the speech, with what
the text says about each (sentence, question, negation, emphasis, valence), and MiniLM's
contextual features on the frame grid (:mod:`emoface.text.embeddings`, loaded lazily)."""
from .words import TimedWord, timed_words

__all__ = ["TimedWord", "timed_words"]
