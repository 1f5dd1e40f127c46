"""The data half of ``stvg demo``: a small synthetic VidSTG-layout dataset, imported and with its
features cached, ready for the heads. Each step is the same library call as its command; the
generator and the extractors (PyAV, torch) are imported when the data are prepared, so that the
configuration can be read without them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from stvg.stvgdata.errors import BadInputError
from stvg.stvgdata.progress import ProgressFn, no_progress
from stvg.stvgdata.workspace import Workspace

if TYPE_CHECKING:
    from stvg.stvgdata.extract import ExtractSummary
    from stvg.stvgdata.importer import ImportSummary
    from stvg.stvgdata.synth import SynthConfig, SynthSummary

DEMO_DATASET = "vidstg"


@dataclass(frozen=True)
class DemoDataConfig:
    """Sizes that let the heads learn visibly within minutes on 2 CPU cores (docs/synthetic.md,
    "The demo's benchmark"): many short, small videos of two large objects that look
    different, so an epoch sees many queries, appearance says *where* and motion *when*."""

    videos: int = 160
    seed: int = 0
    test_seed: int | None = 1000  # the test split is held out from the development seed
    fps: float = 5.0  # source videos at 5 fps: extraction at 5 fps keeps every frame
    video_seconds: float = 10.0
    tube_seconds: float = 3.0
    objects: int = 2  # the fewest the generator allows without twins
    twins: bool = False  # no look-alikes: colour and shape alone find the target
    object_scale: float = 2.0  # shapes 0.4-0.6 of the frame height, people 0.6-0.8
    frame_size: tuple[int, int] = (112, 192)  # generated frames (height, width)
    input_size: tuple[int, int] = (112, 192)  # extracted unscaled: a 4 x 6 feature grid
    tiny_backbones: bool = True  # small networks with the same interface; False: ResNet-101 etc.
    random_init: bool = False  # seeded random backbones, only when asked; else the hubs' weights
    weights: dict[str, str] = field(default_factory=dict)  # model -> weights name or local path

    def __post_init__(self) -> None:
        if self.tiny_backbones and not self.random_init:
            raise BadInputError.for_field(
                "random_init",
                False,
                "the demo's tiny backbones have no published weights; ask for random init "
                "(numbers then come from random networks) or use the full-size backbones",
            )

    def describe(self) -> str:
        """One line on the scene, said above the demo's table (it is easier than the
        benchmark's)."""
        looks = "look-alike pairs" if self.twins else "no look-alikes"
        height, width = self.frame_size
        return (
            f"demo scene: {self.videos} videos of {self.video_seconds:g} s, {self.objects} "
            f"objects ({looks}, size x{self.object_scale:g}), {width}x{height} frames, "
            f"test split from seed {self.test_seed}"
        )


@dataclass(frozen=True)
class DemoData:
    root: Path
    synth: SynthSummary | None  # None when an earlier demo's data was reused
    imported: ImportSummary
    extracted: ExtractSummary


def demo_data_root(ws: Workspace) -> Path:
    return ws.root / "demo-data" / DEMO_DATASET


def demo_synth_config(config: DemoDataConfig) -> SynthConfig:
    """The generator's settings for the demo's sizes (checked as user input)."""
    from stvg.stvgdata.synth import default_config, with_overrides

    return with_overrides(
        DEMO_DATASET,
        default_config(DEMO_DATASET),
        fps=config.fps,
        video_seconds=config.video_seconds,
        tube_seconds=config.tube_seconds,
        objects_per_video=config.objects,
        twins=config.twins,
        object_scale=config.object_scale,
        height=config.frame_size[0],
        width=config.frame_size[1],
    )


def prepare_demo_data(
    ws: Workspace, config: DemoDataConfig, progress: ProgressFn = no_progress
) -> DemoData:
    """Generate (unless already there), import and extract the demo dataset; re-runs resume."""
    from stvg.stvgdata.extract import ExtractConfig, run_extraction
    from stvg.stvgdata.importer import import_dataset
    from stvg.stvgdata.synth import generate

    extract_config = ExtractConfig(  # checked before any work
        dataset=DEMO_DATASET,
        input_size=config.input_size,
        tiny=config.tiny_backbones,
        random_init=config.random_init,
        weights=config.weights,
    )
    root = demo_data_root(ws)
    synth = None
    if not root.exists():
        synth = generate(
            root,
            DEMO_DATASET,
            config.videos,
            config.seed,
            True,
            demo_synth_config(config),
            progress,
            test_seed=config.test_seed,
        )
    imported = import_dataset(ws, DEMO_DATASET, root, progress=progress)
    extracted = run_extraction(ws, extract_config, progress)
    return DemoData(root, synth, imported, extracted)
