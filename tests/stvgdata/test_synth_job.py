"""``SynthJob`` / ``synthesize``: the scene replaces the preset, and a job the generator cannot
honour is refused when built, naming the config field, before anything is written."""

from __future__ import annotations

import pytest

from stvg.stvgdata.errors import BadInputError
from stvg.stvgdata.synth import SynthJob, default_config, generate, synthesize, with_overrides


def test_synthesize_writes_the_preset_with_the_scene_applied(tmp_path):
    scene = {"fps": 5, "objects_per_video": 2, "twins": False, "width": None}
    job = SynthJob(tmp_path / "job", "hcstvg-v1", 3, seed=2, write_videos=False, scene=scene)
    summary = synthesize(job)

    assert (summary.config.fps, summary.config.objects_per_video) == (5.0, 2)
    assert summary.config.width == default_config("hcstvg-v1").width  # None keeps the preset's
    preset = default_config("hcstvg-v1")
    config = with_overrides("hcstvg-v1", preset, fps=5, objects_per_video=2, twins=False)
    generate(tmp_path / "direct", "hcstvg-v1", 3, 2, False, config)
    for name in ("train.json", "test.json"):
        assert (tmp_path / "job" / name).read_bytes() == (tmp_path / "direct" / name).read_bytes()


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"scene": {"video_seconds": 5.0}}, "video_seconds"),  # HC-STVG clips are 20 s
        ({"scene": {"objects_per_video": 3}}, "objects_per_video"),  # twins need 4
        ({"test_seed": 0}, "test_seed"),  # the same seed as the development splits
        ({"layout": "stcat"}, "layout"),  # a VidSTG layout
        ({"videos": 0}, "videos"),
    ],
)
def test_a_job_the_generator_cannot_honour_names_the_field(tmp_path, kwargs, field):
    with pytest.raises(BadInputError) as error:
        SynthJob(tmp_path / "x", "hcstvg-v2", **{"videos": 2, **kwargs})
    assert error.value.field == field
    assert not (tmp_path / "x").exists()
