"""The shipped transformer model is the fine-tuned one: its LoRA deltas reach the encoder, exactly."""
from __future__ import annotations

import hashlib

import numpy as np
import pytest

from analysis.sentiment import CONFIG, ROOT, load_model, read_config

SENTENCES = [
    "The agent was rude and I am furious about these charges.",
    "Thank you so much, you've been really helpful today.",
    "I will call you back on Monday.",
]


@pytest.fixture(scope="module")
def shipped():
    return ROOT / read_config(CONFIG)["transformer"]["head"]


@pytest.fixture(scope="module")
def transformer():
    return load_model("transformer")


def test_the_shipped_weights_file_is_small_and_carries_lora_deltas_for_every_encoder_layer(shipped):
    weights = np.load(shipped)
    deltas = [k for k in weights.files if k.startswith("lora.")]
    assert shipped.stat().st_size < 4 * 1024 * 1024  # committed to git: a few MB at most
    assert len(deltas) == 2 * 6 * 6  # A and B, six Linear layers in each of six layers
    assert all(np.abs(weights[k]).max() > 0 for k in deltas if k.endswith(".B"))  # B starts at zero: trained


def test_the_model_id_carries_the_weights_files_hash_so_a_retrained_model_rescores(transformer, shipped):
    digest = hashlib.sha256(shipped.read_bytes()).hexdigest()[:10]
    assert transformer.fine_tuned and transformer.model_id.endswith(f"+lora+head-{digest}")


def test_the_fine_tuned_encoder_scores_differently_from_the_bare_encoder_with_the_same_head(transformer, shipped, tmp_path):
    # the same file without its deltas: if the loader ignored them, both models would agree
    weights = np.load(shipped)
    bare_file = tmp_path / "bare_head.npz"
    np.savez(bare_file, **{k: weights[k] for k in weights.files if not k.startswith("lora")})
    cfg = read_config(CONFIG)
    bare = load_model("transformer", {"transformer": {**cfg["transformer"], "head": str(bare_file)}})
    assert not bare.fine_tuned and bare.model_id != transformer.model_id
    diff = np.abs(bare.probabilities(SENTENCES) - transformer.probabilities(SENTENCES)).max()
    assert diff > 0.05


def test_merged_deltas_give_the_embedding_the_training_wrappers_gave(shipped):
    # training runs W x + (alpha / rank) B A x; inference runs (W + (alpha / rank) B A) x
    import torch
    from transformers import AutoModel

    from analysis.sentiment import adapter
    from analysis.sentiment.encoder import encoder_path
    from analysis.sentiment.transformer import MiniLMEncoder, embedding

    weights = dict(np.load(shipped))
    cfg = read_config(CONFIG)["transformer"]
    merged = MiniLMEncoder(int(cfg["max_length"]), 8, 1, False, {k: v for k, v in weights.items() if k.startswith("lora")})
    model = AutoModel.from_pretrained(str(encoder_path()), local_files_only=True).eval()
    for name, layer in adapter.wrap(model, torch, int(weights["lora_rank"]), float(weights["lora_alpha"]), 0).items():
        # the file stores the factors in float16; training ran them in float32, as merge does
        layer.A.data = torch.from_numpy(weights[f"lora.{name}.A"].astype(np.float32))
        layer.B.data = torch.from_numpy(weights[f"lora.{name}.B"].astype(np.float32))
    enc = merged.tokenizer(SENTENCES, padding=True, truncation=True, max_length=int(cfg["max_length"]), return_tensors="pt")
    with torch.no_grad():
        wrapped = embedding(torch, model, enc).numpy()
    assert np.abs(merged.embed(SENTENCES) - wrapped).max() < 1e-4


@pytest.mark.parametrize("damage", ["shape", "missing"])
def test_deltas_that_do_not_fit_the_encoder_are_a_one_line_user_error(shipped, tmp_path, damage):
    from analysis.errors import UserError

    weights = dict(np.load(shipped))
    name = next(k for k in weights if k.startswith("lora.") and k.endswith(".A"))
    if damage == "shape":
        weights[name] = weights[name][:, :10]  # A of another input width
    else:
        del weights[name]
    bad = tmp_path / "bad.npz"
    np.savez(bad, **weights)
    cfg = read_config(CONFIG)
    settings = {**cfg, "transformer": {**cfg["transformer"], "head": str(bad), "onnx_cache": str(tmp_path / "cache")}}
    with pytest.raises(UserError, match="carries LoRA deltas that do not fit") as exc:
        load_model("transformer", settings)
    assert "\n" not in str(exc.value) and name.removeprefix("lora.").removesuffix(".A") in str(exc.value)
    cache = tmp_path / "cache"
    assert not cache.exists() or list(cache.iterdir()) == []  # no graph and no temporary file left


def test_a_soup_of_runs_merges_as_the_mean_of_their_deltas(shipped):
    # adapter.average: k runs' factors as one rank-k*rank set whose delta is the mean of theirs
    from analysis.sentiment import adapter

    one = {k: v for k, v in dict(np.load(shipped)).items() if k.startswith("lora")}
    rng = np.random.default_rng(7)
    other = {k: (v if k in ("lora_rank", "lora_alpha") else rng.normal(size=v.shape).astype(np.float32)) for k, v in one.items()}

    def delta(w, name):
        return float(w["lora_alpha"]) / float(w["lora_rank"]) * (w[f"lora.{name}.B"] @ w[f"lora.{name}.A"])

    soup = adapter.average([one, other])
    assert int(soup["lora_rank"]) == 2 * int(one["lora_rank"])
    names = [k.removeprefix("lora.").removesuffix(".A") for k in one if k.endswith(".A")]
    for name in names:
        assert np.abs(delta(soup, name) - (delta(one, name) + delta(other, name)) / 2).max() < 1e-4
    assert all(np.array_equal(adapter.average([one])[k], one[k]) for k in one)  # a soup of one is that run
    with pytest.raises(adapter.DeltasDoNotFit):
        adapter.average([one, {**other, "lora_rank": np.array(4)}])


@pytest.fixture(scope="module")
def script():
    """scripts/train_sentiment_finetune.py as a module (it is a script, not a package)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("train_sentiment_finetune", ROOT / "scripts" / "train_sentiment_finetune.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_shipped_model_is_the_soup_of_the_training_scripts_default_runs(shipped, script):
    weights = np.load(shipped)
    assert script.SEEDS > 1 and weights["epoch"].shape == (script.SEEDS,)  # one best epoch per run
    assert int(weights["lora_rank"]) == script.SEEDS * 8


def test_the_soup_averages_the_runs_heads_and_refuses_runs_that_differ_in_more_than_their_seed(shipped, script):
    rng = np.random.default_rng(3)
    base = {k: v for k, v in dict(np.load(shipped)).items() if k.startswith("lora") or k in ("mean", "scale")}
    runs = [{**base, "coef": rng.normal(size=(3, 388)), "bias": rng.normal(size=3), "val_rows": np.arange(5),
             "epochs": np.array(2), "epoch": np.array(2), "train_seconds": np.array(10)} for _ in range(3)]
    soup = script.soup(runs)
    assert np.allclose(soup["coef"], sum(r["coef"] for r in runs) / 3)
    assert np.allclose(soup["bias"], sum(r["bias"] for r in runs) / 3)
    assert int(soup["train_seconds"]) == 30 and list(soup["epoch"]) == [2, 2, 2]
    with pytest.raises(SystemExit, match="more than their seed"):
        script.soup([runs[0], {**runs[1], "val_rows": np.arange(6)}])
    with pytest.raises(SystemExit, match="more than their seed"):
        script.soup([runs[0], {**runs[1], "mean": runs[1]["mean"] + 0.01}])


def test_each_seeds_run_has_its_own_checkpoint_file(tmp_path, script):
    import argparse

    args = argparse.Namespace(checkpoint=str(tmp_path / "runs.npz"), seed=100)
    names = [script.checkpoint(args, seed).name for seed in (100, 101, 102)]
    assert names == ["runs.npz", "runs-101.npz", "runs-102.npz"]
    assert script.checkpoint(argparse.Namespace(checkpoint=None, seed=100), 101) is None
