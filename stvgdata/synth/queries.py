"""Query design: pick a target and one of its motion phases (the tube), then word it so that
exactly one (object, phase) of the clip fits the words.

A sentence is a ``Description`` of the target: its motion plus some of colour, shape and a
spatial relation to an object of a named appearance. Because every phase holds an appearance
twin doing something else and a look-alike-in-motion of another appearance (see ``scene``),
a description that is unique needs both the static and the dynamic cue.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from stvg.stvgdata.synth.config import SynthConfig
from stvg.stvgdata.synth.language import colour_question, relation_question, shape_question
from stvg.stvgdata.synth.motion import Motion
from stvg.stvgdata.synth.scene import Appearance, Scene

PREDICATES = ("above", "beneath", "left_of", "right_of")
"""Spatial relations that can hold between two objects throughout a phase."""
FALLBACK_PREDICATE = "next_to"
DECLARATIVE = "declarative"
INTERROGATIVE = "interrogative"

CaptionFn = Callable[[Appearance, Motion], str]


@dataclass(frozen=True)
class Description:
    """What a sentence says about its target; None means left unsaid."""

    motion: Motion
    colour: str | None = None
    shape: str | None = None
    relation: tuple[str, Appearance] | None = None
    """(predicate, appearance of some reference object) that holds throughout the phase."""


@dataclass(frozen=True)
class Sentence:
    text: str
    sentence_type: str
    """declarative or interrogative."""


@dataclass(frozen=True)
class Entry:
    """One annotated target tube and its sentences (a VidSTG sentence-file entry)."""

    target: int
    tube: tuple[int, int]
    """[start, end) absolute frames: one whole motion phase of the target."""
    segment: tuple[int, int]
    """[start, end) absolute frames of the clip the sentences are posed on."""
    reference: int
    predicate: str
    """(reference tid, predicate): the VidOR-style relation of the target during the tube."""
    captions: tuple[Sentence, ...]
    questions: tuple[Sentence, ...]

    @property
    def sentences(self) -> tuple[Sentence, ...]:
        return self.captions + self.questions


def spatial_relations(scene: Scene, phase: int) -> np.ndarray:
    """(K, K, 4) bool: object i stands in PREDICATES[j] to object k on every frame of the phase.

    Centres must be apart by more than half the mean size of the two objects on that axis.
    """
    start, end = scene.phase_range(phase)
    boxes = scene.boxes[:, start:end].astype(np.float64)  # (K, n, 4)
    centres = (boxes[..., :2] + boxes[..., 2:]) / 2  # (K, n, 2)
    sizes = boxes[:, 0, 2:] - boxes[:, 0, :2]  # (K, 2)
    offset = centres[:, None] - centres[None, :]  # (K, K, n, 2): subject minus reference
    margin = (sizes[:, None] + sizes[None, :])[:, :, None, :] / 4  # (K, K, 1, 2)
    return np.stack(
        [
            np.all(offset[..., 1] < -margin[..., 1], axis=2),
            np.all(offset[..., 1] > margin[..., 1], axis=2),
            np.all(offset[..., 0] < -margin[..., 0], axis=2),
            np.all(offset[..., 0] > margin[..., 0], axis=2),
        ],
        axis=2,
    )


def fits(
    scene: Scene, relations: list[np.ndarray], description: Description, obj: int, phase: int
) -> bool:
    """Whether object ``obj`` during ``phase`` is a correct answer to ``description``."""
    appearance = scene.objects[obj].appearance
    if scene.motions[obj][phase] != description.motion:
        return False
    if description.colour is not None and appearance.colour != description.colour:
        return False
    if description.shape is not None and appearance.shape != description.shape:
        return False
    if description.relation is None:
        return True
    predicate, reference = description.relation
    column = PREDICATES.index(predicate)
    return any(
        other.appearance == reference and relations[phase][obj, other.tid, column]
        for other in scene.objects
        if other.tid != obj
    )


def is_unique(
    scene: Scene,
    relations: list[np.ndarray],
    description: Description,
    target: tuple[int, int],
    phases: range,
) -> bool:
    """Exactly the target (object, phase) fits, among all objects and the segment's phases."""
    matches = [
        (obj, phase)
        for phase in phases
        for obj in range(len(scene.objects))
        if fits(scene, relations, description, obj, phase)
    ]
    return matches == [target]


def has_clear_boundaries(scene: Scene, obj: int, phase: int) -> bool:
    """The target's motion changes where the phase starts and ends, so the tube is well-defined."""
    motions = scene.motions[obj]
    before = phase == 0 or motions[phase - 1] != motions[phase]
    after = phase == scene.num_phases - 1 or motions[phase + 1] != motions[phase]
    return before and after


def segment_phases(
    rng: np.random.Generator, scene: Scene, phase: int, context: int | None
) -> range:
    """Phases of the clip around the tube: up to ``context`` on each side, at least two in all."""
    last = scene.num_phases - 1
    if context is None:
        return range(0, last + 1)
    first = max(0, phase - int(rng.integers(0, context + 1)))
    final = min(last, phase + int(rng.integers(0, context + 1)))
    if first == final:
        first, final = (phase - 1, phase) if phase == last else (phase, phase + 1)
    return range(first, final + 1)


def _relation_options(
    rng: np.random.Generator, scene: Scene, relations: list[np.ndarray], obj: int, phase: int
) -> list[tuple[int, str]]:
    """(reference tid, predicate) pairs that hold for the target, in random order."""
    refs, columns = np.nonzero(relations[phase][obj])
    options = [(int(ref), PREDICATES[col]) for ref, col in zip(refs, columns, strict=True)]
    return [options[i] for i in rng.permutation(len(options))]


def _question_options(
    rng: np.random.Generator, scene: Scene, relations: list[np.ndarray], obj: int, phase: int
) -> list[list[tuple[Description, str, tuple[int, str] | None]]]:
    """Candidate questions per form, forms in random order: each a list of (what it says, its
    text, the (reference tid, predicate) it uses)."""
    appearance = scene.objects[obj].appearance
    motion = scene.motions[obj][phase]
    relation_form = [
        (
            Description(motion, relation=(predicate, scene.objects[ref].appearance)),
            relation_question(appearance, motion, predicate, scene.objects[ref].appearance),
            (ref, predicate),
        )
        for ref, predicate in _relation_options(rng, scene, relations, obj, phase)
    ]
    shape_form = [
        (Description(motion, shape=appearance.shape), shape_question(appearance, motion), None)
    ]
    colour_form = [
        (Description(motion, colour=appearance.colour), colour_question(appearance, motion), None)
    ]
    forms = [relation_form, shape_form, colour_form]
    return [forms[i] for i in rng.permutation(len(forms))]


def _questions(
    rng: np.random.Generator,
    scene: Scene,
    relations: list[np.ndarray],
    target: tuple[int, int],
    phases: range,
    wanted: int,
) -> tuple[list[Sentence], tuple[int, str] | None]:
    """Up to ``wanted`` unique questions of different forms; also the relation one used."""
    questions: list[Sentence] = []
    used_relation = None
    for form in _question_options(rng, scene, relations, *target):
        if len(questions) == wanted:
            break
        for description, text, relation in form:
            if is_unique(scene, relations, description, target, phases):
                questions.append(Sentence(text, INTERROGATIVE))
                used_relation = used_relation or relation
                break
    return questions, used_relation


def _tube_relation(
    rng: np.random.Generator, scene: Scene, relations: list[np.ndarray], obj: int, phase: int
) -> tuple[int, str]:
    """A relation of the target during the tube; else its same-motion distractor, 'next_to'."""
    options = _relation_options(rng, scene, relations, obj, phase)
    if options:
        return options[0]
    appearance = scene.objects[obj].appearance
    motion = scene.motions[obj][phase]
    partner = next(
        other.tid
        for other in scene.objects
        if other.appearance != appearance and scene.motions[other.tid][phase] == motion
    )
    return partner, FALLBACK_PREDICATE


def design_entries(
    rng: np.random.Generator, scene: Scene, config: SynthConfig, caption: CaptionFn
) -> list[Entry]:
    """Annotated entries for one video: about ``config.entries_per_video``, each with a unique
    declarative caption and 0-2 unique questions (as ``config.questions_per_entry``)."""
    relations = [spatial_relations(scene, phase) for phase in range(scene.num_phases)]
    candidates = [
        (obj, phase)
        for obj in range(len(scene.objects))
        for phase in range(scene.num_phases)
        if has_clear_boundaries(scene, obj, phase)
    ]
    extra = config.entries_per_video - 1
    wanted = 1 + (int(rng.poisson(extra)) if extra > 0 else 0)
    entries: list[Entry] = []
    for index in rng.permutation(len(candidates)):
        if len(entries) == wanted:
            break
        obj, phase = candidates[index]
        appearance = scene.objects[obj].appearance
        motion = scene.motions[obj][phase]
        phases = segment_phases(rng, scene, phase, config.segment_context_phases)
        description = Description(motion, appearance.colour, appearance.shape)
        if not is_unique(scene, relations, description, (obj, phase), phases):
            continue
        n_questions = int(rng.choice(3, p=config.questions_per_entry))
        questions, used = _questions(rng, scene, relations, (obj, phase), phases, n_questions)
        reference, predicate = used or _tube_relation(rng, scene, relations, obj, phase)
        entries.append(
            Entry(
                target=obj,
                tube=scene.phase_range(phase),
                segment=(scene.phase_bounds[phases.start], scene.phase_bounds[phases.stop]),
                reference=reference,
                predicate=predicate,
                captions=(Sentence(caption(appearance, motion), DECLARATIVE),),
                questions=tuple(questions),
            )
        )
    return entries
