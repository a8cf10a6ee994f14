"""`sentiment-train`: training time, and accuracy before and after training on a firm's labels.

    PYTHONPATH=. .venv/bin/python benchmarks/bench_sentiment_train.py [--sizes 2000 700] [--max-epochs 6]

The shipped Amazon review snippets (data/sentiment/vader_gold/amazonReviewSnippets_GroundTruth.txt,
3,708 texts, 20 raters' mean -> negative / neutral / positive through labelled.vader_label; held out
of the shipped model's training) stand in for a firm's labels: a seeded sample of N of them is the
firm's labelled set, the rest of the set is the test ("the rest of that domain"); UCI's Amazon
sentences (1,000, positive / negative only, also never trained on) measure pos-vs-neg transfer.
For each N: the shipped model, the baseline (a logistic head on the frozen MiniLM's embeddings,
class-weighted, trained on the same N labels) and the model `sentiment-train` writes, all measured
on the same texts; the trained model through the inference path (config/sentiment.toml's backend,
onnx int8 by default). Prints training time with the load average.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analysis.sentiment import LABELS, labelled, read_config  # noqa: E402
from analysis.sentiment import train as st  # noqa: E402


def figures(p, gold, has_neutral=None):
    return labelled.validation_metrics(p, gold, np.ones(len(gold), bool) if has_neutral is None else has_neutral)


def load(path: Path):
    from analysis.sentiment.transformer import load_transformer

    cfg = {k: v for k, v in read_config().get("transformer", {}).items() if k != "model_dir"}
    cfg["head"] = str(path)
    return load_transformer(cfg)


def prepare(seed: int) -> SimpleNamespace:
    """The texts, their labels and the seeded order that splits them (the first N train, the rest
    test), UCI's Amazon sentences, and what every size compares against: the frozen MiniLM's
    embeddings (for the logistic head) and the shipped model's probabilities. eval_setfit.py reads
    the same, so both benchmarks measure on the same texts."""
    from analysis.sentiment.transformer import MiniLMEncoder

    rows = labelled.load("vader_amazon")
    texts = [t for t, _ in rows]
    y = np.array([LABELS.index(label) for _, label in rows])
    means = np.array([v for _, v in labelled._rows("vader_amazon")])  # the raters' means, same order
    uci = labelled.load("uci_amazon")
    uci_texts = [t for t, _ in uci]
    encoder = MiniLMEncoder(max_length=64, batch_size=32, threads=2, quantize=False)
    shipped = load(ROOT / st.BASE)
    return SimpleNamespace(
        texts=texts, y=y, means=means, clear=np.abs(means) >= 1.0,  # polar texts the raters agree on
        uci_texts=uci_texts, uci_y=np.array([LABELS.index(label) for _, label in uci]),
        order=np.random.default_rng(seed).permutation(len(texts)),
        emb=encoder.embed(texts), uci_emb=encoder.embed(uci_texts),
        ship_p=shipped.probabilities(texts), ship_uci=shipped.probabilities(uci_texts))


def split(d: SimpleNamespace, n: int):
    """(train rows, test rows, the logistic head on the frozen MiniLM trained on the train rows)."""
    from sklearn.linear_model import LogisticRegression

    train_rows, test_rows = np.sort(d.order[:n]), np.sort(d.order[n:])
    base = LogisticRegression(max_iter=2000, class_weight="balanced", C=1.0).fit(d.emb[train_rows], d.y[train_rows])
    return train_rows, test_rows, base


def print_table(d: SimpleNamespace, test_rows: np.ndarray, models) -> None:
    """One line per (name, probabilities on the test rows, probabilities on UCI): pos-vs-neg and macro-F1
    on the test, pos-vs-neg on its clearly polar texts and on UCI."""
    gold, clear = d.y[test_rows], d.clear[test_rows]
    print(f"  {'model':<42} {'pos-vs-neg':>10} {'macro-F1':>9} {'|mean|>=1 pos-vs-neg':>21} {'uci pos-vs-neg':>15}")
    for name, p, pu in models:
        acc, f1 = figures(p, gold)
        cacc, _ = figures(p[clear], gold[clear])
        uacc, _ = figures(pu, d.uci_y)
        print(f"  {name:<42} {acc:>10.3f} {f1:>9.3f} {cacc:>21.3f} {uacc:>15.3f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 700])
    parser.add_argument("--max-epochs", type=int, default=st.MAX_EPOCHS)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    d = prepare(args.seed)
    texts, y = d.texts, d.y
    print(f"vader_amazon: {len(texts):,} texts ({', '.join(f'{int(c)} {n}' for c, n in zip(np.bincount(y), LABELS))}); "
          f"uci_amazon: {len(d.uci_texts):,} (pos-vs-neg only)")
    for n in args.sizes:
        train_rows, test_rows, base = split(d, n)
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "firm.npz"
            load1 = os.getloadavg()[0]
            t0 = time.perf_counter()
            result = st.train([texts[i] for i in train_rows], y[train_rows], out, max_epochs=args.max_epochs, quiet=True,
                              source="vader_amazon sample")
            seconds = time.perf_counter() - t0
            load2 = os.getloadavg()[0]
            model = load(out)
            mine_p, mine_uci = model.probabilities([texts[i] for i in test_rows]), model.probabilities(d.uci_texts)
        print(f"\n{n:,} labels (test: the other {len(test_rows):,} vader_amazon texts; uci_amazon 1,000): "
              f"trained in {seconds:.0f} s (kept epoch {result['epoch']}; load average {load1:.1f} at start, {load2:.1f} at end, 2 cores)")
        print_table(d, test_rows, (
            ("shipped model", d.ship_p[test_rows], d.ship_uci),
            ("logistic head on frozen MiniLM (baseline)", base.predict_proba(d.emb[test_rows]), base.predict_proba(d.uci_emb)),
            ("sentiment-train", mine_p, mine_uci)))
        print(f"  validation as printed by the command: shipped {result['shipped'][0]:.3f} / {result['shipped'][1]:.3f}, "
              f"trained {result['trained'][0]:.3f} / {result['trained'][1]:.3f}")
    print(f"\nnoise ceiling: a model that knew each text's raters' mean exactly, scored against a second panel of 20 raters "
          f"(rater SD assumed; the shipped files carry only the means): {ceiling(d.means)}")
    return 0


def ceiling(means: np.ndarray) -> str:
    """The agreement of the labels of the observed means with those of a simulated second panel of
    20 raters (the mean plus normal noise of SD sd / sqrt(20)), for rater SDs 1.0 and 1.5."""
    from sklearn.metrics import f1_score

    def label(m):
        return np.where(np.abs(m) < labelled.NEUTRAL_BAND, 1, np.where(m > 0, 2, 0))

    rng, out = np.random.default_rng(0), []
    for sd in (1.0, 1.5):
        f1s, accs = [], []
        for _ in range(20):
            gold = label(means + rng.normal(0, sd / np.sqrt(20), len(means)))
            polar = gold != 1
            f1s.append(f1_score(gold, label(means), average="macro"))
            accs.append(np.mean(np.where(gold[polar] == 2, means[polar] > 0, means[polar] < 0)))
        out.append(f"rater SD {sd}: pos-vs-neg {np.mean(accs):.3f}, macro-F1 {np.mean(f1s):.3f}")
    return "; ".join(out)


if __name__ == "__main__":
    sys.exit(main())
