"""The model card beside an export: `model.json` (everything, machine-readable) and `MODEL.md` (for people).

For a SavedModel folder both sit inside it; for a .tflite/.onnx file they sit beside it, named after it
(`net.tflite` → `net.tflite.MODEL.md`, `net.tflite.model.json`), so two exports in one folder keep their own.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from workbench.core.text import sanitize

CARD_MD = "MODEL.md"
CARD_JSON = "model.json"


def card_paths(out_path: Path, fmt: str) -> tuple[Path, Path]:
    if fmt == "savedmodel":
        return out_path / CARD_MD, out_path / CARD_JSON
    return out_path.with_name(f"{out_path.name}.{CARD_MD}"), out_path.with_name(f"{out_path.name}.{CARD_JSON}")


def sha256_of(path: str | os.PathLike) -> str:
    """A file's sha256; a folder's is the sha256 over its files' relative paths and contents, in order."""
    path = Path(path)
    digest = hashlib.sha256()
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    for file in files:
        if file != path:
            digest.update(str(file.relative_to(path)).encode("utf-8", "surrogateescape") + b"\0")
        with open(file, "rb") as stream:
            for block in iter(lambda: stream.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def _pct(value: Any) -> str:
    return f"{100 * value:.2f} %" if isinstance(value, (int, float)) else "—"


def card_markdown(card: dict) -> str:
    """MODEL.md from the card's JSON (text from files is sanitised)."""
    meta, check = card["metadata"], card.get("check") or {}
    pre = meta["preprocessing"]
    classes = ", ".join(sanitize(c, 60) for c in meta["class_names"])
    h, w, c = meta["input"]["shape"]
    lines = [
        f"# {sanitize(meta['source']['file'] or 'model', 120)} — {card['format']} export",
        "",
        f"- **Input**: float32 {sanitize(meta['input']['pixels'], 120)}, shape N×{h}×{w}×{c} (NHWC)",
        f"- **Preprocessing built in**: {sanitize(pre['describe'], 200)} ({sanitize(pre['reason'] or 'not stated', 200)})"
        + (" — **guessed**, the source file did not record it" if pre["guessed"] else ""),
        f"- **Output**: probabilities over {len(meta['class_names'])} classes"
        + (" (softmax added: the source model outputs logits)" if meta["softmax_added"] else "")
        + (f", temperature {meta['temperature']:.3g} applied" if meta.get("temperature") else ""),
        f"- **Classes**: {classes}",
        f"- **Dataset**: {sanitize(meta.get('dataset') or 'not recorded', 120)}",
        f"- **Quantization**: {card['quantize']}",
        "",
        "## Source and artefact",
        f"- source sha256: `{meta['source']['sha256'] or 'in-memory model'}`",
        f"- artefact sha256: `{card['artefact_sha256']}` ({card['size_bytes']:,} bytes)",
        f"- recipe: {sanitize(card['run'].get('recipe') or '—', 80)}; architecture: {sanitize(card['run'].get('arch') or '—', 80)}",
        "",
        "## Metrics of the source run",
    ]
    run = card["run"]
    if run.get("metrics"):
        lines += [f"- {k}: {_pct(v) if 'top' in k else v}" for k, v in run["metrics"].items()]
    else:
        lines.append("- none recorded (no run folder beside the model file)")
    lines += ["", "## Self-check (the artefact in its own runtime against Keras)"]
    if check:
        lines += [
            f"- {check['images']} images from {sanitize(card['check_source'], 200)}",
            f"- argmax agreement {_pct(check['agreement'])}, max |Δp| {check['max_abs_diff']:.2g}",
            f"- latency per image {check['latency_ms']:.2f} ms ({sanitize(card['versions']['runtime'], 80)}) vs Keras {check['keras_latency_ms']:.2f} ms",
        ]
        if check.get("top1") is not None:
            lines.append(f"- top-1 {_pct(check['top1'])} (Keras {_pct(check['keras_top1'])})")
    else:
        lines.append(f"- not run: {sanitize(card['check_source'], 200)}")
    v = card["versions"]
    lines += ["", "## Versions", f"- TensorFlow {v['tensorflow']}, Keras {v['keras']}, runtime {v['runtime']}"
              + (f", converter {v['converter']}" if v.get("converter") else ""), f"- exported by cifar-workbench {v['workbench']}"]
    return "\n".join(lines) + "\n"
