"""Subject / context split of a query sentence, by a small rule set (no annotations used).

CoSPaL grounds the whole sentence word by word against tubelet appearance (TPG) and the
*contextual* part of it - actions and relations - against tubelet dynamics (CRG). The rule:
the subject is the first noun phrase of the sentence, the context is the rest, where
- a leading wh-word and its linking verb are skipped ("what is the red thing that moves up?"
  -> subject "the red thing", context "moves up"; "which square is moving down?" -> "square" /
  "moving down"); a wh-word directly followed by a verb leaves the subject empty
  ("what is moving down below a red square?" -> context "moving down below a red square");
- the noun phrase ends at the first verb: a linking verb, a relative pronoun, an -ing form
  (except nouns such as "thing") or a verb of a small list of common third-person forms.
This fits the synthetic grammar and plain English captions (VidSTG / HC-STVG style).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

WH_WORDS = frozenset({"what", "which", "who", "whom", "whose"})
LINKING = frozenset({"is", "are", "was", "were", "does", "do", "did", "has", "have"})
RELATIVE = frozenset({"that", "which", "who", "whom", "whose", "where", "when", "while"})
ING_NOUNS = frozenset(
    {"thing", "something", "anything", "nothing", "everything", "ring", "king", "ceiling",
     "building", "string", "wing", "painting", "clothing", "swing", "evening", "morning"}
)  # fmt: skip
VERBS = frozenset(
    {"moves", "bounces", "walks", "jumps", "stands", "stays", "runs", "sits", "rides", "holds",
     "carries", "goes", "turns", "rolls", "falls", "plays", "looks", "leans", "touches", "hits",
     "kicks", "throws", "catches", "pushes", "pulls", "eats", "drinks", "drives", "watches",
     "lies", "climbs", "dances", "waves", "hugs", "kisses", "grabs", "opens", "closes", "enters",
     "leaves", "follows", "chases", "passes", "crosses", "speaks", "talks", "sings", "smiles"}
)  # fmt: skip


@dataclass(frozen=True)
class Phrases:
    subject: str  # the first noun phrase ("" for a bare wh-question)
    context: str  # actions and relations: the rest of the sentence


def words_of(sentence: str) -> list[str]:
    """Lower-case words, punctuation dropped."""
    return re.findall(r"[a-z0-9']+", sentence.lower())


def _is_verb(word: str) -> bool:
    return (
        word in LINKING
        or word in RELATIVE
        or word in VERBS
        or (word.endswith("ing") and word not in ING_NOUNS)
    )


def split_sentence(sentence: str) -> Phrases:
    """Subject (first noun phrase) and context (the rest) of ``sentence``, by the rules above."""
    words = words_of(sentence)
    start = 0
    if words and words[0] in WH_WORDS:
        start = 2 if len(words) > 1 and words[1] in LINKING else 1
    end = start
    while end < len(words) and not _is_verb(words[end]):
        end += 1
    rest = end
    while rest < len(words) and (words[rest] in LINKING or words[rest] in RELATIVE):
        rest += 1
    return Phrases(" ".join(words[start:end]), " ".join(words[rest:]))
