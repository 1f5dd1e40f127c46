"""Ablations of CSDVL (paper Tables 3-5): each variant x seed is trained and evaluated, its
runs rows written, and metrics summarized as mean +- std over seeds. Variants are configuration
overrides of one base config, never copies of the model, and each is named by the model it
trains (``CSDVLConfig.variant_name``): ``--no-s2d`` trains "d2s", so runs rows and tables match
the paper's names whichever switch made the model.

With no switches the sweep is Table 3's grid: "none", "d2s", "s2d", "s2d+d2s". With switches,
the full model ("s2d+d2s") runs against the model each switch makes.

Protocol: with a validation split each run keeps its best-on-val checkpoint (early stopping
with ``patience``) and is scored on the evaluation split, which must be another split; each
variant is then compared with the model without exchange ("none"; else the first variant)
query by query, with a bootstrap interval over queries (``heads.eval.compare``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from stvg.heads.csdvl.config import CSDVLConfig, TrainConfig, config_to_dict
from stvg.heads.csdvl.predict import predict_run
from stvg.heads.csdvl.train import check_warmup, train
from stvg.heads.distributed import broadcast, is_rank_zero
from stvg.heads.eval.ablation import AblationResult, run_grid, summary_metrics
from stvg.heads.eval.compare import compare_runs
from stvg.heads.eval.evaluate import RunInfo, evaluate
from stvg.heads.eval.metrics import Summary
from stvg.heads.eval.protocols import DEFAULT_PROTOCOL
from stvg.stvgdata.errors import BadInputError
from stvg.stvgdata.progress import ProgressFn, no_progress
from stvg.stvgdata.workspace import Workspace

# variant -> (s2d, d2s), in the order of the paper's Table 3
TABLE3 = {
    "none": (False, False),
    "d2s": (False, True),
    "s2d": (True, False),
    "s2d+d2s": (True, True),
}


@dataclass(frozen=True)
class Variant:
    """Config overrides that make one model of an ablation, e.g. Variant({"fusion": "sum"}),
    named by the model (``apply(base).variant_name()``); the first override is the switch that
    selected it."""

    overrides: dict[str, Any] = field(default_factory=dict)

    def apply(self, base: CSDVLConfig) -> CSDVLConfig:
        return dataclasses.replace(base, **self.overrides)


def table3_variants() -> list[Variant]:
    """No collaboration, d2s only, s2d only, both (Table 3, top to bottom)."""
    return [Variant({"fusion": "collab", "s2d": s2d, "d2s": d2s}) for s2d, d2s in TABLE3.values()]


def selected_variants(
    no_s2d: bool = False,
    no_d2s: bool = False,
    fusions: Sequence[str] = (),
    no_spatial: bool = False,
    no_mean_pool: bool = False,
) -> list[Variant]:
    """The full model, then the model each switch given makes; Table 3's grid when none is
    given."""
    switched = []
    if no_s2d:
        switched.append(Variant({"s2d": False}))
    if no_d2s:
        switched.append(Variant({"d2s": False}))
    switched += [Variant({"fusion": kind}) for kind in fusions]
    if no_spatial:
        switched.append(Variant({"dynamic_spatial": False}))
    if no_mean_pool:
        switched.append(Variant({"dynamic_mean_pool": False}))
    if not switched:
        return table3_variants()
    return [table3_variants()[-1], *switched]


def variant_configs(variants: Sequence[Variant], base: CSDVLConfig) -> dict[str, CSDVLConfig]:
    """Each variant's model config on ``base``, under the model's name (with any non-default
    anchor). A variant that makes the same model as an earlier one is refused, naming its
    switch: its runs could not be told apart."""
    configs: dict[str, CSDVLConfig] = {}
    for variant in variants:
        config = variant.apply(base)
        name = config.variant_name()
        if name in configs:
            switch, value = next(iter(variant.overrides.items()))
            shown = None if isinstance(value, bool) else value  # a flag's value says nothing
            raise BadInputError.for_field(
                switch, shown, f"trains the same model as another variant ({name})"
            )
        configs[name] = config
    return configs


def checkpoint_rule(train_config: TrainConfig) -> str:
    """How a run's evaluated checkpoint is chosen, as its runs rows record it."""
    if train_config.val_split is None:
        return f"last of {train_config.epochs} epochs"
    patience = "" if train_config.patience is None else f", patience {train_config.patience}"
    return f"best on {train_config.val_split}{patience}"


def check_splits(train_config: TrainConfig, eval_split: str) -> None:
    """Selecting a checkpoint on the split that scores it would overstate every variant."""
    if train_config.val_split == eval_split:
        raise BadInputError.for_field(
            "val_split", eval_split, "is also the evaluation split; select on another split"
        )


def run_ablation(
    ws: Workspace,
    dataset: str,
    variants: Sequence[Variant],
    seeds: Sequence[int],
    base_config: CSDVLConfig,
    train_config: TrainConfig,
    progress: ProgressFn = no_progress,
    eval_split: str = "test",
    protocol: str = DEFAULT_PROTOCOL,
    preset_name: str = "paper",
) -> AblationResult:
    """Train and evaluate every variant with every seed; runs rows carry the model's variant
    name (with any non-default anchor) and the checkpoint rule (in ``config``). Under torchrun,
    inside one ``heads.distributed.process_group``: rank 0 scores and records, every rank gets
    its summaries. Seed-major (``heads.eval.ablation.run_grid``)."""
    check_splits(train_config, eval_split)
    configs = variant_configs(variants, base_config)
    for config in configs.values():  # refuse a bad warm start before the first run, not mid-grid
        check_warmup(config, train_config)
    rule = checkpoint_rule(train_config)

    def run_one(config: CSDVLConfig, seed: int) -> tuple[str, dict[str, Any]]:
        seeded = dataclasses.replace(train_config, seed=seed)
        run = train(ws, dataset, config, seeded, progress)
        info = RunInfo(
            run_id=run.run_id,
            method="csdvl",
            variant=config.variant_name(),
            seed=seed,
            config=config_to_dict(config, seeded) | {"checkpoint_rule": rule},
            checkpoint=str(run.checkpoint),
            features=run.run.features,
        )
        summary = _score(ws, dataset, info, eval_split, protocol) if is_rank_zero() else None
        return run.run_id, summary_metrics(broadcast(summary))

    results = run_grid(configs, seeds, run_one, progress=progress)
    setting = f"preset {preset_name}, anchor {base_config.anchor}, checkpoint {rule}"
    result = AblationResult(dataset, eval_split, protocol, results, setting)
    baseline = next((name for name, config in configs.items() if not config.exchanges), None)
    return paired_with_baseline(ws, result, baseline) if is_rank_zero() else result


def _score(ws: Workspace, dataset: str, info: RunInfo, eval_split: str, protocol: str) -> Summary:
    """Predict with the trained run and record it in ``runs``."""
    *_, predictions = predict_run(ws, info.run_id, dataset, eval_split)
    return evaluate(ws, dataset, eval_split, predictions, protocol, info).summaries["all"]


def paired_with_baseline(
    ws: Workspace, result: AblationResult, baseline_name: str | None = None
) -> AblationResult:
    """``result`` with each variant compared with the variant ``baseline_name`` (None: the
    first variant) on the same queries: the paired per-query vIoU difference and its bootstrap
    interval."""
    if len(result.variants) < 2:
        return result
    by_name = {v.variant: v for v in result.variants}
    baseline = by_name.get(baseline_name, result.variants[0])
    result.baseline = baseline.variant
    result.paired = {
        v.variant: compare_runs(ws, v.run_ids, baseline.run_ids)
        for v in result.variants
        if v is not baseline
    }
    return result
