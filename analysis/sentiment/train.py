"""`python -m analysis sentiment-train`: fine-tune the shipped sentiment model on a firm's own labels.

    python -m analysis sentiment-train --labels FILE.csv --text-column COL --label-column COL --out PATH.npz
    python -m analysis sentiment-train --db FILE --out PATH.npz      (the labels marked in the dashboard)

Labels are negative / neutral / positive (any case, spaces trimmed); other values and empty texts
are reported with their line numbers (as a spreadsheet shows them: the header is line 1) and
skipped. At least MIN_PER_CLASS labels of each class are needed.

The method (DECISIONS.md, "Training on a firm's labels (issue 23)"): start from the shipped model
(models/sentiment_minilm_lora.npz: MiniLM, its LoRA deltas merged into the encoder, the head over
[embedding, VADER's four scores]); wrap the merged encoder in a new rank-8 LoRA
(analysis.sentiment.adapter.wrap) and train it together with the head, initialised from the shipped
head (its standardisation kept), with class-weighted cross-entropy plus SUPCON x a supervised-contrastive
loss on the batch's unit embeddings (same batches, no extra passes); each epoch measures and keeps a
moving average (EMA) of the trained weights. A seeded stratified share of the
labels (VALIDATION_SHARE) is held out: it chooses the epoch (epoch 0, the shipped model itself,
included) and then the decision thresholds (logit offsets, labelled.pick_offsets) measured through
the loading path inference uses (load_transformer with config/sentiment.toml's backend, onnx int8 by
default, its graph built in a temporary directory). The written file is one HeadModel loads: the
shipped and the new deltas as one set of factors (adapter.combine), the head, the thresholds, and a
`meta` JSON string (base model, label counts, validation figures, seed).

Offline and reproducible: seeded (torch, numpy), one torch thread, a fixed batch order, no clock;
the .npz is written with fixed zip timestamps, to a temporary file renamed into place, so the same
labels and seed give the same bytes on one machine.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from analysis.errors import UserError
from analysis.sentiment import LABELS, ROOT, is_blank

MIN_PER_CLASS = 10
VALIDATION_SHARE = 0.2
MIN_VALIDATION_PER_CLASS = 3
SEED = 20261206
MAX_EPOCHS = 8
PATIENCE = 4  # epochs without a better validation figure before stopping
RANK, ALPHA = 8, 16.0  # the new deltas' scale (alpha / rank = 2) equals the shipped model's (48 / 24): combine concatenates exactly
LR, HEAD_LR = 1e-3, 1e-3
BATCH_SIZE = 16
SUPCON, SUPCON_T = 0.5, 0.1  # weight and temperature of the supervised-contrastive term on the batch's unit embeddings
EMA = 0.99  # per-batch decay of the moving average of the trained weights: the average is what each epoch measures and keeps
SHOWN_PROBLEMS = 10
BASE = "models/sentiment_minilm_lora.npz"


def add_arguments(parser) -> None:
    src = parser.add_mutually_exclusive_group(required=True)
    src.add_argument("--labels", metavar="FILE.csv", help="a CSV of labelled texts (header row; one text and one label column)")
    src.add_argument("--db", metavar="FILE", help="the database whose labels the dashboard's users marked")
    parser.add_argument("--label-log", metavar="FILE",
                        help="--db: the label log (default: $DASHBOARD_LABELS or <db>.labels.sqlite, where the dashboard writes it)")
    parser.add_argument("--text-column", metavar="COL", help="--labels: the column holding the text")
    parser.add_argument("--label-column", metavar="COL", help="--labels: the column holding negative / neutral / positive")
    parser.add_argument("--out", required=True, metavar="PATH.npz",
                        help="the trained model's weights file (written whole or not at all); then `sentiment --model PATH` "
                             "or config/sentiment.toml's [transformer] head = \"PATH\"")
    parser.add_argument("--encoding", default=None, help="--labels' encoding; default: detect UTF-8/UTF-16 BOM, else UTF-8, else latin-1")
    parser.add_argument("--seed", type=int, default=SEED, help=f"seed of the split, the new deltas and the batch order (default {SEED})")
    parser.add_argument("--max-epochs", type=int, default=MAX_EPOCHS,
                        help=f"at most this many passes over the training labels (default {MAX_EPOCHS}; the best on validation is kept)")
    parser.add_argument("--limit", type=int, default=0, help="use only the first N usable labels (a quick try)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args) -> int:
    out = check_out(Path(args.out))
    if args.max_epochs < 1:
        raise UserError("--max-epochs must be at least 1")
    if args.limit < 0:
        raise UserError("--limit must be 0 (all labels) or more")
    if args.label_log and not args.db:
        raise UserError("--label-log is for --db: the dashboard's label log of that database")
    if args.labels:
        if not args.text_column or not args.label_column:
            raise UserError("--labels needs --text-column and --label-column: name the columns holding the text and its label")
        source = Path(args.labels)
        texts, labels, where = read_csv(source, args.text_column, args.label_column, args.encoding)
    else:
        if args.text_column or args.label_column:
            raise UserError("--text-column and --label-column are for --labels; --db reads the dashboard's labels")
        source = Path(args.db)
        texts, labels, where = read_db(source, args.label_log)
    texts, y = usable(texts, labels, where)
    if args.limit:
        texts, y = texts[:args.limit], y[:args.limit]
    check_counts(y, source, "label more turns in the Conversations page's transcript viewer" if args.db else "label more texts")
    result = train(texts, y, out, seed=args.seed, max_epochs=args.max_epochs, quiet=args.quiet, source=source.name)
    print(result["summary"])
    return 0


# ---------------------------------------------------------------------------------------------- input

def check_out(out: Path) -> Path:
    """--out's problems, before any work: one line each."""
    if out.suffix.lower() != ".npz":
        raise UserError(f"--out {out} must name a .npz file (the model's weights), e.g. models/firm_sentiment.npz")
    if out.is_dir():
        raise UserError(f"--out {out} is a folder: give a file name ending in .npz")
    if not out.parent.is_dir():
        raise UserError(f"output folder {out.parent} does not exist: create it or choose another --out")
    if out.resolve() == (ROOT / BASE).resolve():
        raise UserError(f"--out {out} is the shipped model that training starts from: choose another file")
    return out


def read_csv(src: Path, text_column: str, label_column: str, encoding_arg: str | None):
    """(texts, labels, line numbers) of a labelled CSV, read as `sentiment` reads its input."""
    import pandas as pd

    from analysis.sentiment.csvinput import check_column, input_encoding, read_header

    if not src.is_file():
        raise UserError(f"labels file {src} not found: give an existing CSV with --labels")
    encoding, _lines, fallback = input_encoding(src, encoding_arg)
    if fallback:
        print(f"warning: {src} is not valid UTF-8; read it as latin-1 (pass --encoding to choose another)", file=sys.stderr)
    header = read_header(src, encoding)
    check_column(header, text_column, src)
    if label_column not in header.columns:
        cols = ", ".join(list(header.columns)[:20])
        raise UserError(f"column {label_column!r} not in {src} (columns: {cols}): pass --label-column with one of them")
    try:
        frame = pd.read_csv(src, dtype=str, keep_default_na=False, encoding=encoding, usecols=[text_column, label_column])
    except pd.errors.ParserError as exc:
        raise UserError(f"{src} is not a well-formed CSV ({str(exc).splitlines()[0]}): fix the file") from None
    except UnicodeError as exc:
        raise UserError(f"cannot read {src} as {encoding} ({exc.reason}): pass the right --encoding") from None
    # a spreadsheet's row numbers: the header is row 1, the first record row 2 (a quoted cell over several lines is one row)
    return frame[text_column].tolist(), frame[label_column].tolist(), [f"line {i + 2}" for i in range(len(frame))]


def read_db(db: Path, label_log: str | None = None):
    """(texts, labels, row names) of the labels marked in the dashboard (the latest label of each turn)."""
    if not db.is_file():
        raise UserError(f"database {db} not found: give the --db the dashboard uses")
    if label_log and not Path(label_log).is_file():
        raise UserError(f"label log {label_log} not found: give the file the dashboard writes labels to, or leave --label-log out")
    from analysis.sentiment.labels import training_frame

    frame = training_frame(db, label_log)
    return frame["text"].tolist(), frame["label"].tolist(), [f"label {i + 1}" for i in range(len(frame))]


def usable(texts, labels, where) -> tuple[list[str], np.ndarray]:
    """The rows with a text and a label in LABELS (trimmed, any case), as (texts, class indices);
    the others are reported on stderr (the first SHOWN_PROBLEMS one a line, then a count)."""
    keep_texts, y, problems = [], [], []
    for text, label, at in zip(texts, labels, where):
        name = "" if is_blank(label) else str(label).strip().lower()
        if name not in LABELS:
            problems.append(f"{at}: label {str(label if not is_blank(label) else '')!r} is not negative, neutral or positive; skipped")
        elif is_blank(text):
            problems.append(f"{at}: empty text; skipped")
        else:
            keep_texts.append(str(text))
            y.append(LABELS.index(name))
    for line in problems[:SHOWN_PROBLEMS]:
        print(f"warning: {line}", file=sys.stderr)
    if len(problems) > SHOWN_PROBLEMS:
        print(f"warning: and {len(problems) - SHOWN_PROBLEMS:,} more rows skipped for the same reasons "
              f"({len(problems):,} in all)", file=sys.stderr)
    return keep_texts, np.array(y, dtype=np.int64)


def check_counts(y: np.ndarray, source: Path, what_to_do: str = "label more texts") -> None:
    counts = np.bincount(y, minlength=3)
    if counts.min() < MIN_PER_CLASS:
        have = ", ".join(f"{int(c)} {name}" for c, name in zip(counts, LABELS))
        raise UserError(f"too few labels to learn from in {source}: {have}; training needs at least {MIN_PER_CLASS} "
                        f"of each class: {what_to_do}")


def split(y: np.ndarray, seed: int) -> np.ndarray:
    """A seeded stratified validation split (True: validation): VALIDATION_SHARE of each class, at
    least MIN_VALIDATION_PER_CLASS."""
    rng = np.random.default_rng(seed)
    val = np.zeros(len(y), dtype=bool)
    for c in range(3):
        rows = np.flatnonzero(y == c)
        n = max(MIN_VALIDATION_PER_CLASS, int(round(VALIDATION_SHARE * len(rows))))
        val[rng.permutation(rows)[:n]] = True
    return val


# ------------------------------------------------------------------------------------------- training

def batches(rng, rows: np.ndarray, lengths: np.ndarray, size: int, chunk_batches: int = 16) -> list[np.ndarray]:
    """Shuffled rows in chunks of `chunk_batches` batches, each chunk sorted by token length (little
    padding), then the batches shuffled (scripts/train_sentiment_finetune.py uses it with 64)."""
    order = rows[rng.permutation(len(rows))]
    out = []
    for i in range(0, len(order), size * chunk_batches):
        chunk = order[i:i + size * chunk_batches]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        out += [chunk[j:j + size] for j in range(0, len(chunk), size)]
    return [out[k] for k in rng.permutation(len(out))]


def fit(texts: list[str], y: np.ndarray, val: np.ndarray, base: dict, cfg: dict, seed: int, max_epochs: int, quiet: bool) -> dict:
    """Train the new deltas and the head; returns the best epoch's weights (before thresholds) with
    its validation logits (torch fp32) and what the epochs measured."""
    from tqdm import tqdm

    from analysis.sentiment import adapter, labelled
    from analysis.sentiment.encoder import frozen_minilm, load_torch
    from analysis.sentiment.transformer import embedding, softmax, vader_features

    torch = load_torch(1)  # one thread: the same bytes on every run of one machine
    torch.manual_seed(seed)
    max_length = int(cfg.get("max_length", 64))
    tokenizer, model = frozen_minilm()
    adapter.merge(model, torch, base)  # the shipped deltas, as inference merges them
    wrapped = adapter.wrap(model, torch, RANK, ALPHA, seed)
    head = torch.nn.Linear(388, 3)
    with torch.no_grad():
        head.weight.copy_(torch.from_numpy(np.asarray(base["coef"], dtype=np.float32)))
        head.bias.copy_(torch.from_numpy(np.asarray(base["intercept"] - base["offsets"], dtype=np.float32)))
    mean_t = torch.from_numpy(np.asarray(base["mean"], dtype=np.float32))
    scale_t = torch.from_numpy(np.asarray(base["scale"], dtype=np.float32))
    vader_t = torch.from_numpy(vader_features(texts))
    lengths = np.array([len(ids) for ids in tokenizer(texts, truncation=True, max_length=max_length)["input_ids"]])

    def embed(idx):
        enc = tokenizer([texts[i] for i in idx], padding=True, truncation=True, max_length=max_length, return_tensors="pt")
        return embedding(torch, model, enc)

    def logits(idx, with_embedding=False):
        e = embed(idx)
        z = head((torch.cat([e, vader_t[idx]], dim=1) - mean_t) / scale_t)
        return (z, e) if with_embedding else z

    def supcon(e, labels):
        """Supervised contrastive loss (Khosla et al.) on unit embeddings; anchors without a positive skipped."""
        sim = e @ e.T / SUPCON_T
        n = len(labels)
        eye = torch.eye(n, dtype=torch.bool)
        sim = sim.masked_fill(eye, -1e9)
        logp = sim - torch.logsumexp(sim, dim=1, keepdim=True)
        pos = (labels[:, None] == labels[None, :]) & ~eye
        npos = pos.sum(1)
        keep = npos > 0
        if not bool(keep.any()):
            return sim.new_zeros(())
        per = -(logp * pos).sum(1)[keep] / npos[keep]
        return per.mean()

    train_rows, val_rows = np.flatnonzero(~val), np.flatnonzero(val)
    gold, has_neutral = y[val_rows], np.ones(len(val_rows), dtype=bool)

    def evaluate():
        model.eval()
        z = np.empty((len(texts), 3), dtype=np.float32)
        with torch.no_grad():
            for idx in batches(np.random.default_rng(0), val_rows, lengths, 64):
                z[idx] = logits(idx).numpy()
        acc, f1 = labelled.validation_metrics(softmax(z[val_rows]), gold, has_neutral)
        return acc, f1, z[val_rows]

    def state(epoch, figures):
        out = {f"lora.{n}.{k}": getattr(layer, k).detach().numpy().copy() for n, layer in wrapped.items() for k in ("A", "B")}
        out.update(coef=head.weight.detach().numpy().copy(), bias=head.bias.detach().numpy().copy(),
                   lora_rank=np.array(RANK), lora_alpha=np.array(ALPHA))
        return {"weights": out, "epoch": epoch, "acc": figures[0], "f1": figures[1], "val_logits": figures[2]}

    lora_params = [p for layer in wrapped.values() for p in (layer.A, layer.B)]
    opt = torch.optim.AdamW([{"params": lora_params, "lr": LR}, {"params": head.parameters(), "lr": HEAD_LR}], weight_decay=0.01)
    counts = np.bincount(y[train_rows], minlength=3)
    weight = torch.tensor(len(train_rows) / (3 * counts), dtype=torch.float32)
    plans = [batches(np.random.default_rng(seed + e), train_rows, lengths, BATCH_SIZE) for e in range(max_epochs)]
    total = sum(map(len, plans))
    warmup = max(1, total // 20)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min((s + 1) / warmup, max(0.0, (total - s) / max(1, total - warmup))))
    y_t = torch.from_numpy(y)

    trainable = lora_params + list(head.parameters())
    ema = [p.detach().clone() for p in trainable]
    first = evaluate()
    best, history, stale = state(0, first), [(0, first[0], first[1])], 0
    bar = tqdm(total=total, unit="batch", file=sys.stderr, disable=quiet, desc="sentiment-train")
    try:
        for epoch, plan in enumerate(plans, start=1):
            model.train()
            for idx in plan:
                z, e = logits(idx, with_embedding=True)
                loss = torch.nn.functional.cross_entropy(z, y_t[idx], weight=weight) + SUPCON * supcon(e, y_t[idx])
                opt.zero_grad()
                loss.backward()
                opt.step()
                sched.step()
                with torch.no_grad():
                    for m, p in zip(ema, trainable):
                        m.mul_(EMA).add_(p.detach(), alpha=1 - EMA)
                bar.update(1)
            # evaluate (and keep) the averaged weights; training goes on from the live ones
            live = [p.detach().clone() for p in trainable]
            with torch.no_grad():
                for m, p in zip(ema, trainable):
                    p.copy_(m)
            figures = evaluate()
            history.append((epoch, figures[0], figures[1]))
            bar.set_postfix_str(f"epoch {epoch}: validation {figures[0]:.3f} / {figures[1]:.3f}")
            better = figures[0] + figures[1] > best["acc"] + best["f1"] + 1e-9
            if better:
                best = state(epoch, figures)
            with torch.no_grad():
                for v, p in zip(live, trainable):
                    p.copy_(v)
            stale = 0 if better else stale + 1
            if stale >= PATIENCE:
                break
    finally:
        bar.close()
    best["history"] = history
    return best


def write_npz(path: Path, arrays: dict) -> None:
    """np.savez_compressed's format, byte for byte the same for the same arrays (fixed zip timestamps),
    written to a temporary file beside `path` and renamed into place."""
    from numpy.lib import format as npformat

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(arrays):
            member = io.BytesIO()
            npformat.write_array(member, np.asanyarray(arrays[name]), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, member.getvalue())
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        tmp.write_bytes(buf.getvalue())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def weights_file(base: dict, trained: dict, offsets: np.ndarray, int8_offsets, meta: dict) -> dict:
    """The arrays of a weights file HeadModel loads: the shipped and the new deltas as one set of
    factors (float16, as the shipped file's), the head with its thresholds in the intercept."""
    from analysis.sentiment import adapter

    lora = adapter.combine([base, trained])
    arrays = {k: (v.astype(np.float16) if k.startswith("lora.") else v) for k, v in lora.items()}
    arrays.update(coef=trained["coef"].astype(np.float32), intercept=(trained["bias"] + offsets).astype(np.float32),
                  offsets=offsets.astype(np.float32), mean=np.asarray(base["mean"], dtype=np.float32),
                  scale=np.asarray(base["scale"], dtype=np.float32), classes=np.array(LABELS),
                  encoder=np.array(str(base["encoder"])), meta=np.array(json.dumps(meta, sort_keys=True)))
    if int8_offsets is not None:
        arrays["int8_offsets"] = (int8_offsets - offsets).astype(np.float32)
    return arrays


def _inference_logits(cfg: dict, head: Path, texts: list[str], cache: Path | None) -> tuple[np.ndarray, str]:
    """Log-probabilities of `texts` by the weights file `head` loaded as `sentiment` loads it, and its model id."""
    from analysis.sentiment.transformer import load_transformer

    conf = {k: v for k, v in cfg.items() if k != "model_dir"}
    conf["head"] = str(head)
    if cache is not None:
        conf["onnx_cache"] = str(cache)
    model = load_transformer(conf)
    return np.log(np.clip(model.probabilities(texts), 1e-12, 1.0)), model.model_id


def train(texts: list[str], y: np.ndarray, out: Path, seed: int = SEED, max_epochs: int = MAX_EPOCHS, quiet: bool = False,
          source: str = "", config: dict | None = None) -> dict:
    """Train on (texts, y), write the model to `out`; returns the figures, the model id and a summary to print."""
    from analysis.sentiment import labelled, read_config
    from analysis.sentiment.transformer import softmax

    cfg = dict((read_config() if config is None else config).get("transformer", {}))
    cfg.pop("model_dir", None)
    base_path = ROOT / BASE
    base_bytes = base_path.read_bytes()
    base = dict(np.load(io.BytesIO(base_bytes), allow_pickle=False))
    val = split(y, seed)
    val_rows = np.flatnonzero(val)
    vt, gold, has_neutral = [texts[i] for i in val_rows], y[val_rows], np.ones(len(val_rows), dtype=bool)
    counts = np.bincount(y, minlength=3)
    print(f"{len(y):,} labels ({', '.join(f'{int(c):,} {n}' for c, n in zip(counts, LABELS))}); "
          f"{len(val_rows):,} held out for validation", file=sys.stderr)

    # the shipped model on the same split, as `sentiment` loads it
    shipped = labelled.validation_metrics(softmax(_inference_logits(cfg, base_path, vt, None)[0]), gold, has_neutral)
    best = fit(texts, y, val, base, cfg, seed, max_epochs, quiet)
    trained = best["weights"]

    backend = str(cfg.get("backend", "onnx"))
    quantize = bool(cfg.get("quantize", True))
    # fp32 thresholds from the training's own validation logits (torch fp32); the configured path's
    # (onnx int8 by default) measured on the written factors through load_transformer
    dn, dp, _acc, _f1 = labelled.pick_offsets(best["val_logits"], gold, has_neutral)
    fp32 = np.array([0.0, dn, dp])
    meta = {"base_model": f"{BASE} (sha256 {hashlib.sha256(base_bytes).hexdigest()[:10]})", "encoder": str(base["encoder"]),
            "labels_from": source, "label_counts": {n: int(c) for n, c in zip(LABELS, counts)},
            "validation_labels": int(len(val_rows)), "seed": int(seed), "epoch": int(best["epoch"]), "max_epochs": int(max_epochs),
            "new_lora_rank": RANK, "new_lora_alpha": ALPHA, "min_per_class": MIN_PER_CLASS,
            "supcon_weight": SUPCON, "supcon_temperature": SUPCON_T, "ema_decay": EMA, "lora_lr": LR, "head_lr": HEAD_LR}
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw.npz"
        write_npz(raw, weights_file(base, trained, fp32, None, meta))
        z, raw_id = _inference_logits(cfg, raw, vt, Path(tmp))
        raw_digest = hashlib.sha256(raw.read_bytes()).hexdigest()[:10]
        if backend == "onnx" and quantize:
            dn8, dp8, acc, f1 = labelled.pick_offsets(z - fp32, gold, has_neutral)
            int8 = np.array([0.0, dn8, dp8])
        else:
            dn, dp, acc, f1 = labelled.pick_offsets(z - fp32, gold, has_neutral)
            fp32, int8 = np.array([0.0, dn, dp]), None
    meta["validation"] = {"trained": {"pos_vs_neg_accuracy": round(acc, 4), "macro_f1": round(f1, 4)},
                          "shipped": {"pos_vs_neg_accuracy": round(shipped[0], 4), "macro_f1": round(shipped[1], 4)},
                          "measured_with": raw_id.removesuffix(raw_digest)}
    write_npz(out, weights_file(base, trained, fp32, int8, meta))
    digest = hashlib.sha256(out.read_bytes()).hexdigest()[:10]
    # HeadModel's id of this file: the loaded raw file's, whose last part is the file's sha
    model_id = raw_id.removesuffix(raw_digest) + digest
    epochs = ", ".join(f"{e}: {a:.3f}/{f:.3f}" for e, a, f in best["history"])
    print(f"epochs (validation pos-vs-neg / macro-F1, torch fp32, before thresholds): {epochs}; kept epoch {best['epoch']}", file=sys.stderr)
    summary = "\n".join([
        f"validation ({len(val_rows):,} held-out labels)   pos-vs-neg accuracy   3-class macro-F1",
        f"  shipped model                        {shipped[0]:.3f}                {shipped[1]:.3f}",
        f"  trained model                        {acc:.3f}                {f1:.3f}",
        f"wrote {out} (model id {model_id})",
    ])
    return {"shipped": shipped, "trained": (acc, f1), "epoch": best["epoch"], "model_id": model_id, "summary": summary}
