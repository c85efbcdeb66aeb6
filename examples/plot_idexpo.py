"""Yoshikawa & Iwata (2024), tabular pattern: ID-ExpO against cross-entropy-only fine-tuning.

For each dataset (scikit-learn's breast_cancer and wine, standardized on the training part) and
each seed, the rows are split 70/10/20 (``validation_fraction=0.125`` of the 80% kept for
training). One MLP (two hidden layers of 256 units) is pre-trained with cross-entropy; from the
same pre-trained network, :class:`~skexplain.training.IDExpOClassifier` fine-tunes it with
``lambda_insertion = lambda_deletion = lam`` (ID-ExpO) and with all lambdas 0 (CE-only), each
selecting its epoch by valscore (eta = 2). On the test rows we report accuracy, insertion and
one-minus-deletion (:func:`~skexplain.metrics.insertion_auc`,
:func:`~skexplain.metrics.deletion_auc`; S = 50% of the features, step 1, baseline 0) of the
explainer's attributions for the predicted class, and sensitivity-n
(:func:`~skexplain.metrics.sensitivity_n`, n = 20% of the features), which is not optimized.
Each cell is the mean over seeds; ``p`` is the paired t-test of ID-ExpO against CE-only over the
seeds.

Run ``python examples/plot_idexpo.py`` (minutes per dataset on a CPU); ``--quick`` runs one
seed with few epochs.
"""

import argparse

import numpy as np
from scipy.stats import ttest_rel
from sklearn.datasets import load_breast_cancer, load_wine
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from skexplain.metrics import deletion_auc, insertion_auc, sensitivity_n
from skexplain.training import IDExpOClassifier

DATASETS = {"breast_cancer": load_breast_cancer, "wine": load_wine}
COLUMNS = ("accuracy", "insertion", "1-deletion", "sensitivity-n")


def evaluate(clf, X, y):
    phi = clf.explain(X)
    n = max(1, round(0.2 * X.shape[1]))
    return (
        clf.score(X, y),
        insertion_auc(clf, X, phi, fraction=0.5).mean(),
        1 - deletion_auc(clf, X, phi, fraction=0.5).mean(),
        np.nanmean(sensitivity_n(clf, X, phi, n_features=n, random_state=0)),
    )


def run(dataset, explainer, seeds, lam=0.1, pretrain_epochs=100, finetune_epochs=200, n_masks=200):
    X, y = DATASETS[dataset](return_X_y=True)
    rows = {"CE-only": [], "ID-ExpO": []}
    for seed in seeds:
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=0.2, stratify=y, random_state=seed
        )
        scaler = StandardScaler().fit(X_train)
        X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
        common = dict(explainer=explainer, n_masks=n_masks, random_state=seed)
        pretrained = IDExpOClassifier(
            pretrain_epochs=pretrain_epochs, finetune_epochs=0, **common
        ).fit(X_train, y_train)
        for name, value in (("CE-only", 0.0), ("ID-ExpO", lam)):
            clf = IDExpOClassifier(
                pretrained.module_,
                pretrain_epochs=0,
                finetune_epochs=finetune_epochs,
                lambda_insertion=value,
                lambda_deletion=value,
                **common,
            ).fit(X_train, y_train)
            rows[name].append(evaluate(clf, X_test, y_test))
    return {k: np.asarray(v) for k, v in rows.items()}


def print_table(dataset, explainer, rows):
    print(f"\n{dataset}, {explainer} ({len(rows['CE-only'])} seeds)")
    print(f"{'':10s}" + "".join(f"{c:>15s}" for c in COLUMNS))
    for name, values in rows.items():
        print(f"{name:10s}" + "".join(f"{v:15.4f}" for v in values.mean(axis=0)))
    if len(rows["CE-only"]) > 1:
        p = [ttest_rel(rows["ID-ExpO"][:, j], rows["CE-only"][:, j]).pvalue for j in range(4)]
        print(f"{'p':10s}" + "".join(f"{v:15.3g}" for v in p))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    if args.quick:
        options = dict(seeds=[0], pretrain_epochs=20, finetune_epochs=3, n_masks=50)
    else:
        options = dict(seeds=range(5))
    for dataset in DATASETS:
        for explainer in ("lime", "kernelshap"):
            print_table(dataset, explainer, run(dataset, explainer, **options))


if __name__ == "__main__":
    main()
