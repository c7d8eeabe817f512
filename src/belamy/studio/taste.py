"""Learned taste: ridge regression from a render's features to the artist's rating, with its
cross-validated accuracy, so the unrated renders can be sorted by the rating they would likely get.

Small on purpose: a few dozen ratings cannot fit more than a linear model, and ridge in closed
form (numpy, no torch) refits in milliseconds as the artist rates. The penalty is chosen by k-fold
cross-validation; the accuracy shown is that of the out-of-fold predictions (Spearman's rank
correlation with the ratings, and the mean absolute error against the error of always predicting
the training folds' mean), so the artist can see whether the ranking is worth following. Below
`MIN_RATINGS` there is no model: a ranking from a handful of ratings would be noise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MIN_RATINGS = 30
PENALTIES = (0.1, 1.0, 10.0, 100.0, 1000.0)
FOLDS = 5


@dataclass(frozen=True)
class Accuracy:
    """Out-of-fold accuracy of the chosen model."""

    spearman: float      # rank correlation of predictions and ratings (0: no better than chance)
    mae: float           # mean absolute error of the predictions, in stars
    baseline_mae: float  # the same for predicting the training folds' mean rating
    penalty: float
    ratings: int


def _ranks(x: np.ndarray) -> np.ndarray:
    order = np.argsort(x, kind="stable")
    ranks = np.empty(len(x))
    ranks[order] = np.arange(len(x))
    for value in np.unique(x):  # ties share their mean rank
        same = x == value
        ranks[same] = ranks[same].mean()
    return ranks


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    ra, rb = _ranks(np.asarray(a, float)), _ranks(np.asarray(b, float))
    if ra.std() == 0 or rb.std() == 0:
        return 0.0
    return float(np.corrcoef(ra, rb)[0, 1])


class Ridge:
    """Ridge regression on standardized features, fitted in closed form."""

    def __init__(self, penalty: float) -> None:
        self.penalty = penalty

    def fit(self, X: np.ndarray, y: np.ndarray) -> Ridge:
        self.mean, self.scale = X.mean(0), X.std(0) + 1e-8
        Z = (X - self.mean) / self.scale
        self.bias = float(y.mean())
        # the dual form: n x n, cheaper than d x d when there are fewer ratings than features
        K = Z @ Z.T
        alpha = np.linalg.solve(K + self.penalty * np.eye(len(Z)), y - self.bias)
        self.coef = Z.T @ alpha
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        return ((X - self.mean) / self.scale) @ self.coef + self.bias


def folds(n: int, k: int = FOLDS, seed: int = 0) -> list[np.ndarray]:
    return np.array_split(np.random.default_rng(seed).permutation(n), min(k, n))


def cross_validate(X: np.ndarray, y: np.ndarray, penalty: float) -> tuple[np.ndarray, np.ndarray]:
    """(out-of-fold predictions, out-of-fold predictions of the training folds' mean)."""
    pred, base = np.empty(len(y)), np.empty(len(y))
    for test in folds(len(y)):
        train = np.setdiff1d(np.arange(len(y)), test)
        pred[test] = Ridge(penalty).fit(X[train], y[train]).predict(X[test])
        base[test] = y[train].mean()
    return pred, base


@dataclass
class Taste:
    """A fitted taste model and how well it predicted ratings it had not seen."""

    model: Ridge
    accuracy: Accuracy

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Predicted stars, squashed into (1, 5) without ties: the raw ridge prediction can leave
        the scale, and a hard clip would tie every render past it when sorting by taste."""
        return 3.0 + 2.0 * np.tanh((self.model.predict(X) - 3.0) / 2.0)


def learn(X: np.ndarray, y: np.ndarray) -> Taste | None:
    """Fit the taste model on rated renders' features `X` and ratings `y`; None below MIN_RATINGS
    or when the ratings do not vary (there is nothing to learn)."""
    X, y = np.asarray(X, float), np.asarray(y, float)
    if len(y) < MIN_RATINGS or y.std() == 0:
        return None
    best: tuple[float, float, np.ndarray, np.ndarray] | None = None
    for penalty in PENALTIES:
        pred, base = cross_validate(X, y, penalty)
        mae = float(np.abs(pred - y).mean())
        if best is None or mae < best[0]:
            best = (mae, penalty, pred, base)
    assert best is not None
    mae, penalty, pred, base = best
    accuracy = Accuracy(spearman(pred, y), mae, float(np.abs(base - y).mean()), penalty, len(y))
    return Taste(Ridge(penalty).fit(X, y), accuracy)
