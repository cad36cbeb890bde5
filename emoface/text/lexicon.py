"""Small word lists the text-aware rules read. Hand-built for this project (not taken
from a published lexicon): a few dozen frequent English words each, lower case, in the
spelling :func:`emoface.audio.transcript.normalize_transcript` gives."""
from __future__ import annotations

NEGATIONS = frozenset({
    "no", "not", "never", "nothing", "nobody", "none", "nowhere", "neither", "nor",
    "can't", "cannot", "won't", "don't", "doesn't", "didn't", "isn't", "aren't", "wasn't",
    "weren't", "haven't", "hasn't", "hadn't", "shouldn't", "wouldn't", "couldn't", "mustn't",
    "n't",
})

# A sentence ending in "?" that opens with one of these asks yes or no (a wh-question
# opens with a wh-word instead and is not marked the same way).
AUXILIARIES = frozenset({
    "am", "is", "are", "was", "were", "do", "does", "did", "have", "has", "had", "can",
    "could", "will", "would", "shall", "should", "may", "might", "must", "isn't", "aren't",
    "don't", "doesn't", "didn't", "can't", "won't", "wasn't", "weren't", "haven't",
    "hasn't", "wouldn't", "couldn't", "shouldn't",
})

# Function words rarely carry the sentence's emphasis; an accent on one is not boosted.
FUNCTION_WORDS = frozenset({
    "a", "an", "the", "and", "or", "but", "of", "to", "in", "on", "at", "by", "for", "with",
    "from", "as", "is", "am", "are", "was", "were", "be", "been", "it", "its", "i", "you",
    "he", "she", "we", "they", "me", "him", "her", "us", "them", "my", "your", "his", "our",
    "their", "this", "that", "these", "those", "there", "then", "so", "if", "do", "does",
    "did", "have", "has", "had", "will", "would", "can", "could", "shall", "should", "may",
})

# Valence from -1 (strongly unpleasant) to +1 (strongly pleasant); unlisted words are 0.
VALENCE: dict[str, float] = {
    # pleasant
    "love": 1.0, "loved": 1.0, "lovely": 0.9, "wonderful": 1.0, "wonderfully": 0.9,
    "happy": 0.9, "glad": 0.8, "great": 0.8, "good": 0.6, "beautiful": 0.9, "joy": 1.0,
    "delighted": 1.0, "delight": 0.9, "excellent": 0.9, "amazing": 0.9, "fantastic": 0.9,
    "brilliant": 0.8, "thank": 0.7, "thanks": 0.7, "win": 0.7, "won": 0.7, "success": 0.8,
    "smile": 0.8, "laugh": 0.8, "fun": 0.8, "nice": 0.6, "kind": 0.6, "best": 0.7,
    "perfect": 0.8, "hope": 0.5, "friend": 0.6, "friends": 0.6, "congratulations": 1.0,
    "celebrate": 0.9, "enjoy": 0.8, "pleased": 0.8, "proud": 0.7, "safe": 0.5,
    # unpleasant
    "hate": -1.0, "hated": -1.0, "terrible": -1.0, "awful": -1.0, "horrible": -1.0,
    "sad": -0.8, "angry": -0.8, "afraid": -0.8, "scared": -0.8, "fear": -0.8, "bad": -0.6,
    "worst": -0.9, "wrong": -0.5, "sorry": -0.5, "died": -1.0, "dead": -1.0, "death": -1.0,
    "kill": -1.0, "killed": -1.0, "pain": -0.9, "hurt": -0.8, "lost": -0.6, "lose": -0.6,
    "cry": -0.8, "cried": -0.8, "disaster": -1.0, "disgusting": -1.0, "sick": -0.7,
    "fail": -0.7, "failed": -0.7, "failure": -0.8, "alone": -0.5, "danger": -0.8,
    "dangerous": -0.8, "miserable": -1.0, "ugly": -0.7, "stupid": -0.7, "problem": -0.4,
}
