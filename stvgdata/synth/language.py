"""Sentence templates: how an appearance, a motion and a spatial relation are put in words.

VidSTG has declarative sentences (the target named by its appearance) and interrogative ones
(the target unknown: "what ..." / "who ..."); HC-STVG has one declarative, person-centric
sentence per video, capitalized with a full stop.
"""

from __future__ import annotations

from stvg.stvgdata.synth.motion import Motion
from stvg.stvgdata.synth.scene import Appearance

OBJECT_VERBS: dict[Motion, tuple[str, str]] = {
    Motion.STILL: ("stays still", "staying still"),
    Motion.LEFT: ("moves to the left", "moving to the left"),
    Motion.RIGHT: ("moves to the right", "moving to the right"),
    Motion.UP: ("moves up", "moving up"),
    Motion.DOWN: ("moves down", "moving down"),
    Motion.CIRCLE: ("moves in a circle", "moving in a circle"),
    Motion.BOUNCE: ("bounces up and down", "bouncing up and down"),
}
PERSON_VERBS: dict[Motion, tuple[str, str]] = {
    Motion.STILL: ("stands still", "standing still"),
    Motion.LEFT: ("walks to the left", "walking to the left"),
    Motion.RIGHT: ("walks to the right", "walking to the right"),
    Motion.UP: ("walks upward", "walking upward"),
    Motion.DOWN: ("walks downward", "walking downward"),
    Motion.CIRCLE: ("walks in a circle", "walking in a circle"),
    Motion.BOUNCE: ("jumps up and down", "jumping up and down"),
}
RELATION_WORDS = {
    "above": "above",
    "beneath": "below",
    "left_of": "to the left of",
    "right_of": "to the right of",
}
"""Spatial predicates (VidOR-style names) and how a sentence says them."""


def _verbs(appearance: Appearance, motion: Motion) -> tuple[str, str]:
    """(third person, -ing form) of ``motion`` for this kind of object."""
    return (PERSON_VERBS if appearance.is_person else OBJECT_VERBS)[motion]


def noun_phrase(appearance: Appearance, clothing: bool = False) -> str:
    """'red square', 'person in red' or, for HC-STVG, 'person in the red shirt'."""
    if appearance.is_person:
        return (
            f"person in the {appearance.colour} shirt"
            if clothing
            else f"person in {appearance.colour}"
        )
    return f"{appearance.colour} {appearance.shape}"


def declarative(appearance: Appearance, motion: Motion) -> str:
    """VidSTG-style caption: 'the red square moves to the left.'"""
    return f"the {noun_phrase(appearance)} {_verbs(appearance, motion)[0]}."


def person_centric(appearance: Appearance, motion: Motion) -> str:
    """HC-STVG-style caption: 'The person in the red shirt walks to the left.'"""
    return f"The {noun_phrase(appearance, clothing=True)} {_verbs(appearance, motion)[0]}."


def relation_question(
    target: Appearance, motion: Motion, predicate: str, reference: Appearance
) -> str:
    """'what is moving to the left below a green circle?' (the target's appearance unsaid)."""
    wh = "who" if target.is_person else "what"
    ing = _verbs(target, motion)[1]
    return f"{wh} is {ing} {RELATION_WORDS[predicate]} a {noun_phrase(reference)}?"


def shape_question(target: Appearance, motion: Motion) -> str:
    """'which square is moving up?' (the colour unsaid)."""
    return f"which {target.shape} is {_verbs(target, motion)[1]}?"


def colour_question(target: Appearance, motion: Motion) -> str:
    """'what is the red thing that moves up?' (the shape unsaid)."""
    if target.is_person:
        return f"who is the person in {target.colour} that {_verbs(target, motion)[0]}?"
    return f"what is the {target.colour} thing that {_verbs(target, motion)[0]}?"
