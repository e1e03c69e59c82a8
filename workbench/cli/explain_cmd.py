"""`explain`: where a model looks — Grad-CAM (or its saliency fallback, which says so) for image files,
written per image as an overlay PNG and the raw map as .npy.

The model is opened as `classify` opens it (same options); images are found and fitted as `classify`
finds and fits them. Everything that can be refused (model, images, --class, --layer, --out) is checked
before anything is written; each file is written atomically.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from workbench.cli.common import EXIT_FAILED, CliError, check_out_folder, emit_json
from workbench.cli.model_cmds import (_check_model_path, _load_model, _model_facts, _print_model_facts, _warn_fit,
                                     add_model_options, image_files)
from workbench.core.text import sanitize

CHUNK = 256  # images decoded and explained together: bounded memory for any folder size
PROGRESS_FROM = 10
_LISTED_CLASSES = 20


def _class_index(wanted: str | None, class_names: tuple[str, ...]) -> int | None:
    """--class as an index: a class name (exact, then ignoring case) or a number; else one sentence."""
    if wanted is None:
        return None
    if wanted in class_names:
        return class_names.index(wanted)
    folded = [i for i, n in enumerate(class_names) if n.casefold() == wanted.casefold()]
    if len(folded) == 1:
        return folded[0]
    try:
        index = int(wanted)
    except ValueError:
        index = None
    if index is not None and 0 <= index < len(class_names):
        return index
    shown = ", ".join(sanitize(n, 40) for n in class_names[:_LISTED_CLASSES])
    more = f", … ({len(class_names)} in all)" if len(class_names) > _LISTED_CLASSES else ""
    raise CliError(f"--class {sanitize(wanted, 60)} is not one of the model's classes; give a name ({shown}{more}) "
                   f"or an index from 0 to {len(class_names) - 1}.")



def _check_layer(loaded, layer: str | None) -> str | None:
    """The layer's path, or None; an unknown name is a usage error naming the spatial layers."""
    if layer is None:
        return None
    from workbench.core.explain.graph import LayerNotFound, layer_info

    try:
        return layer_info(loaded.model, layer).name
    except LayerNotFound as exc:
        raise CliError(str(exc)) from None


def cmd_explain(args: argparse.Namespace) -> int:
    from workbench.core.classify import ClassifyError, fit_for, fit_note, input_shape_for_images

    out = check_out_folder(args.out, "the overlays and maps")
    _check_model_path(args.model)
    found = image_files(args.images)
    loaded = _load_model(args)
    from workbench.core.modelio.artefacts import not_available

    refusal = not_available(loaded, "Grad-CAM")
    if refusal:  # an exported artefact: said once, before any image is read or anything written
        raise CliError(refusal)
    try:
        shape = input_shape_for_images(loaded)
    except ClassifyError as exc:
        raise CliError(str(exc)) from None
    class_index = _class_index(args.class_, loaded.class_names)
    layer = _check_layer(loaded, args.layer)
    fit = fit_for(loaded, args.fit)
    if not args.json:
        _print_model_facts(loaded, args.model)
        _warn_fit(loaded, args.fit)
    rows = _explain_files(loaded, found.files, out, shape, fit, fit_note(loaded, fit), class_index, layer,
                          args.opacity, quiet=args.json)
    failures = sum("error" in r for r in rows)
    if args.json:
        emit_json({"model": _model_facts(loaded), "out": str(out), "images": rows, "skipped": found.skipped})
    elif found.skipped:
        print(f"skipped {found.skipped} file(s) in the folders that are not images.", file=sys.stderr)
    return EXIT_FAILED if failures == len(rows) else 0


def _explain_files(loaded, files, out: Path, shape, fit, note, class_index, layer, opacity, *, quiet) -> list[dict]:
    from workbench.cli.progress import Progress
    from workbench.core.explain.export import unique_stems

    stems = dict(zip(files, unique_stems(files)))
    rows: list[dict[str, Any]] = []
    said: set[str] = set()
    many = len(files) >= PROGRESS_FROM
    with Progress("explaining", len(files) if many else None, unit="images") as bar:
        for start in range(0, len(files), CHUNK):
            chunk = files[start:start + CHUNK]
            for row in _explain_chunk(loaded, chunk, stems, out, shape, fit, note, class_index, layer, opacity):
                rows.append(row)
                if not quiet:
                    _print_row(row, loaded, said)
            if many:
                bar.update(len(rows))
    return rows


def _explain_chunk(loaded, files, stems, out: Path, shape, fit, note, class_index, layer, opacity) -> list[dict]:
    import numpy as np

    from workbench.core.atomic_write import write_bytes_atomic
    from workbench.core.explain.export import map_npy, overlay_png
    from workbench.core.explain.gradcam import explain, zero_map_note
    from workbench.core.images.errors import ImageReadError
    from workbench.core.images.prepare import prepare_image

    rows: dict[str, dict] = {}
    ready = []
    for path in files:
        try:
            ready.append(prepare_image(path, shape, fit=fit, fit_note=note))
        except ImageReadError as exc:
            rows[path] = {"image": path, "error": str(exc)}
    if ready:
        e = explain(loaded, np.stack([p.model_input for p in ready]), class_index=class_index, layer=layer)
        out.mkdir(parents=True, exist_ok=True)
        for i, prepared in enumerate(ready):
            stem = stems[prepared.path]
            png, npy = out / f"{stem}.png", out / f"{stem}.npy"
            write_bytes_atomic(npy, map_npy(e.maps[i]))
            write_bytes_atomic(png, overlay_png(prepared.model_input, e.maps[i], opacity=opacity))
            k = int(e.class_indices[i])
            notes = [n for n in (e.note, zero_map_note(e, i)) if n]
            rows[prepared.path] = {
                "image": prepared.path, "overlay": str(png), "map": str(npy),
                "class": loaded.class_names[k], "class_index": k, "probability": float(e.probabilities[i]),
                "layer": e.layer, "method": e.method, "note": " ".join(notes) or None, "steps": list(prepared.steps),
            }
    return [rows[p] for p in files]


def _print_row(row: dict, loaded, said: set[str]) -> None:
    if "error" in row:
        print(f"{sanitize(row['image'])}: {sanitize(row['error'], 400)}", file=sys.stderr)
        return
    where = f" at {row['layer']}" if row["layer"] else ""
    print(f"{sanitize(row['image'])}: {sanitize(row['class'], 40)} {100 * row['probability']:.1f}% — "
          f"{row['method']}{where} → {sanitize(Path(row['overlay']).name)}, {sanitize(Path(row['map']).name)}")
    for sentence in (row["note"] or "").split(". "):
        sentence = sentence.strip().rstrip(".")
        if sentence and sentence not in said:  # a note shared by every image is said once
            said.add(sentence)
            print(f"note: {sentence}.", file=sys.stderr)


def _opacity(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number from 0 to 1, not {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be from 0 to 1, not {value:g}")
    return value


def add_parsers(sub) -> None:
    helptext = "where a model looks: Grad-CAM overlays and maps for image files (or the images in folders)"
    p = sub.add_parser(
        "explain", help=helptext, description=helptext + ". Per image, --out gets STEM.png (the image as the "
        "model saw it, blended with the map, enlarged to at least 224 pixels) and STEM.npy (the map: float32, the "
        "model's input height × width, values 0 to 1), named after the image file's stem; when two images share a "
        "stem (a/cat.png, b/cat.jpg), the later ones in input order get STEM-2, STEM-3, …. A model or --layer "
        "without spatial extent gets gradient × input saliency instead, and a note says so.")
    p.add_argument("model", help="the saved model: .h5 or .keras (weights-only files need --architecture)")
    p.add_argument("images", nargs="+", help="image files, or folders whose images (searched recursively, sorted) "
                   "are explained; other files in folders are skipped")
    p.add_argument("--out", required=True, help="folder for the overlays and maps (made if missing; files there "
                   "with the same names are replaced)")
    p.add_argument("--class", dest="class_", metavar="LABEL", help="the class to explain, by name or index "
                   "(default: each image's top-1 class)")
    p.add_argument("--layer", help="the layer whose activations Grad-CAM weighs (a path like base/conv5 for a "
                   "layer inside a nested model; default: the deepest layer with spatial extent)")
    p.add_argument("--opacity", type=_opacity, default=0.5, help="how strongly the map covers the image in the "
                   "overlay PNG, 0 to 1")
    add_model_options(p)
    # add_model_options' --json help speaks of one line; say what this command's line holds.
    for action in p._actions:
        if action.dest == "json":
            action.help = ("print one JSON document (one line): the model's facts, the output folder, and per "
                           "image its file, overlay and map paths, the class explained, its probability, the "
                           "layer, the method (grad-cam or saliency) and a note (null, or why a fallback was used)")
    p.set_defaults(func=cmd_explain)
