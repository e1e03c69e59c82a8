"""`embed`: a model's penultimate-layer features of a test split, as TensorBoard Projector files and a
2-D map (PCA or t-SNE) in map.csv.

Everything is checked before the slow part and computed before anything is written, so a refused or
interrupted command leaves the output folder as it was.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from workbench.cli.common import CliError, check_out_folder, emit_json
from workbench.cli.model_cmds import (
    _model_facts,
    _print_model_facts,
    _warn_fit,
    add_model_options,
    add_test_split_options,
    load_test_split,
    open_model_on_dataset,
)
from workbench.core.text import sanitize



def cmd_embed(args: argparse.Namespace) -> int:
    from workbench.cli.progress import Progress
    from workbench.core.classify import fit_for, fit_warning
    from workbench.core.embedding.features import FeatureError, extract_features
    from workbench.core.embedding.map_file import MAP_NAME, write_map_csv
    from workbench.core.embedding.projection import PHASE_OPTIMISING, ProjectionError, project
    from workbench.core.embedding.projector import write_projector

    out = check_out_folder(args.out, "the Projector files")
    loaded, _info = open_model_on_dataset(args, "map")
    fit = fit_for(loaded, args.fit)
    if not args.json:
        _print_model_facts(loaded, args.model)
        _warn_fit(loaded, args.fit)
    x, y, class_names = load_test_split(args)
    try:
        with Progress("reading features", len(y), unit="images") as bar:
            features = extract_features(loaded, x, fit=fit, progress=lambda done, _: bar.update(done))
        if args.method == "tsne":
            with Progress("t-SNE", None if len(y) < 3 else 750, unit="iterations") as bar:
                def step(phase: str, done: int, total: int) -> None:
                    bar.update(done if phase == PHASE_OPTIMISING else 0)

                projection = project(features.vectors, "tsne", progress=step)
        else:
            projection = project(features.vectors, "pca")
    except (FeatureError, ProjectionError) as exc:
        raise CliError(f"{sanitize(Path(args.model).name)} cannot be mapped on {args.dataset}: {exc}") from None
    files = write_projector(out, features.vectors, y, features.probabilities, class_names, x)
    write_map_csv(out / MAP_NAME, projection.coords, y, features.probabilities, class_names)
    correct = float((features.predicted == y).mean())
    if args.json:
        emit_json({
            "out": str(out), "n": int(len(y)), "layer": features.layer, "dimensions": int(features.vectors.shape[1]),
            "method": projection.method, "explained": list(projection.explained) if projection.explained else None,
            "top1": correct, "steps": list(features.steps),
            "seconds": {"features": features.seconds, "projection": projection.seconds},
            "files": {"map": str(out / MAP_NAME), "config": str(files.config), "vectors": str(files.vectors),
                      "metadata": str(files.metadata), "sprite": str(files.sprite) if files.sprite else None},
            "model": _model_facts(loaded, fit_warning(loaded, args.fit)),
        })
        return 0
    for step_text in features.steps:
        print(f"note: {sanitize(step_text)}.")
    print(f"{len(y):,} test images of {args.dataset}: {features.vectors.shape[1]} features from layer "
          f"{sanitize(features.layer)} ({features.seconds:.1f} s); top-1 {100 * correct:.2f}%.")
    print(f"{sanitize(projection.describe())} ({projection.seconds:.1f} s): {sanitize(out / MAP_NAME)}")
    print(f"Projector files in {sanitize(out)}; see them in 3-D with:  tensorboard --logdir {sanitize(out)}  "
          "(then the Projector tab; colour by 'true', or by 'correct' for the mistakes)")
    return 0


def add_parsers(sub) -> None:
    text = "a model's features of a test split: TensorBoard Projector files and a 2-D map (PCA or t-SNE)"
    p = sub.add_parser("embed", help=text, description=text)
    p.add_argument("model", help="the saved model: .h5 or .keras (weights-only files need --architecture)")
    add_test_split_options(p, "map")
    p.add_argument("--out", required=True, help="folder for the Projector files and map.csv (made if missing)")
    p.add_argument("--method", choices=("pca", "tsne"), default="pca",
                   help="the 2-D map: PCA (seconds) or t-SNE (about a minute for 10,000 images)")
    add_model_options(p)
    p.set_defaults(func=cmd_embed)
