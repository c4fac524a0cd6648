"""The loss functions against NumPy written straight from the spec's formulas."""

import numpy as np
import pytest
from keras import ops

from nst.core import losses
from tests.helpers import relative_difference, rng, tolerance_used, within

# core: runs on every Keras backend (make test)
pytestmark = [pytest.mark.core, pytest.mark.e2e]

RNG = rng(42)


def features(height=5, width=4, channels=3):
    return RNG.normal(size=(1, height, width, channels)).astype(np.float32)


def content_loss(C, G, normalization):
    """The content loss of one layer, as the objective computes it: from its sum of squares."""
    return losses.content_loss([losses.squared_error(C, G)], [float(C.size)], normalization)


def grams(features_list):
    """The per-position Gram matrices of the generated image's features, as the objective gathers them."""
    return [losses.normalized_gram(ops.convert_to_tensor(F)) for F in features_list]


def numpy_gram(F):
    # G_ij = sum_k F_ik F_jk with F as (channels N, positions M)
    flat = F[0].reshape(-1, F.shape[-1]).T.astype(np.float64)
    return flat @ flat.T


def test_gram_matrix_is_the_channel_inner_products():
    F = features()
    gram = ops.convert_to_numpy(losses.gram_matrix(ops.convert_to_tensor(F))[0])
    within("Gram matrix against NumPy's, tolerance used", tolerance_used(gram, numpy_gram(F), rtol=1e-5), at_most=1.0)


def test_content_loss_sum_is_half_the_sum_of_squares():
    C, G = features(), features()
    expected = 0.5 * np.sum((C.astype(np.float64) - G) ** 2)
    loss = ops.convert_to_numpy(content_loss(C, G, "sum"))
    within("content loss (sum) against NumPy's, relative", relative_difference(loss, expected), at_most=1e-5)


def test_content_loss_mean_is_the_mean_squared_error():
    C, G = features(), features()
    expected = np.mean((C.astype(np.float64) - G) ** 2)
    loss = ops.convert_to_numpy(content_loss(C, G, "mean"))
    within("content loss (mean) against NumPy's, relative", relative_difference(loss, expected), at_most=1e-5)


def spec_layer_style_loss(S, G):
    N, M = S.shape[-1], S.shape[1] * S.shape[2]
    return np.sum((numpy_gram(S) - numpy_gram(G)) ** 2) / (4 * N**2 * M**2)


def test_style_layer_loss_sum_is_the_spec_formula():
    S, G = features(channels=6), features(channels=6)
    target = losses.normalized_gram(ops.convert_to_tensor(S))
    loss = ops.convert_to_numpy(losses.style_layer_loss(target, grams([G])[0], "sum"))
    expected = spec_layer_style_loss(S, G)
    within("a layer's style loss (sum) against NumPy's, relative", relative_difference(loss, expected), at_most=1e-4)


def test_style_loss_sum_adds_weighted_layers():
    pairs = [(features(6, 6, 3), features(6, 6, 3)), (features(3, 3, 8), features(3, 3, 8))]
    weights = [0.3, 2.0]
    expected = sum(w * spec_layer_style_loss(S, G) for w, (S, G) in zip(weights, pairs, strict=True))
    targets = [losses.normalized_gram(ops.convert_to_tensor(S)) for S, _ in pairs]
    result = ops.convert_to_numpy(losses.style_loss(targets, grams([G for _, G in pairs]), weights, "sum"))
    within("style loss (sum) against NumPy's, relative", relative_difference(result, expected), at_most=1e-4)


def test_style_loss_mean_is_the_tutorial_formula():
    # TensorFlow tutorial: gram / positions, mean squared error per layer, averaged over layers.
    pairs = [(features(6, 6, 3), features(6, 6, 3)), (features(3, 3, 8), features(3, 3, 8))]

    def tutorial_layer(S, G):
        M = S.shape[1] * S.shape[2]
        return np.mean((numpy_gram(S) / M - numpy_gram(G) / M) ** 2)

    expected = np.mean([tutorial_layer(S, G) for S, G in pairs])
    targets = [losses.normalized_gram(ops.convert_to_tensor(S)) for S, _ in pairs]
    result = ops.convert_to_numpy(losses.style_loss(targets, grams([G for _, G in pairs]), [1.0, 1.0], "mean"))
    within("style loss (mean) against the tutorial's, relative", relative_difference(result, expected), at_most=1e-4)


def test_the_documented_relation_between_normalisations():
    C, G = features(4, 4, 5), features(4, 4, 5)
    N, M = 5, 16
    as_mean, as_sum = (ops.convert_to_numpy(content_loss(C, G, form)) for form in ("mean", "sum"))
    within("content loss: mean against 2/(NM) sum, relative", relative_difference(as_mean, 2 / (N * M) * as_sum),
           at_most=1e-5)  # fmt: skip
    pairs = [(features(4, 4, 5), features(4, 4, 5)) for _ in range(3)]
    targets = [losses.normalized_gram(ops.convert_to_tensor(S)) for S, _ in pairs]
    generated = grams([G for _, G in pairs])
    as_mean = ops.convert_to_numpy(losses.style_loss(targets, generated, [1, 1, 1], "mean"))
    as_sum = ops.convert_to_numpy(losses.style_loss(targets, generated, [1, 1, 1], "sum"))
    within("style loss: mean against 4/L sum, relative", relative_difference(as_mean, 4 / 3 * as_sum), at_most=1e-5)


def test_style_target_of_another_size_compares_per_position_grams():
    # A style image twice as large in each direction, made of the same tile, has the same
    # per-position Gram matrix: its loss against the tile is zero.
    tile = features(3, 3, 4)
    doubled = np.tile(tile, (1, 2, 2, 1))
    target = losses.normalized_gram(ops.convert_to_tensor(doubled))
    loss = ops.convert_to_numpy(losses.style_layer_loss(target, grams([tile])[0], "sum"))
    within("style loss against the same texture twice as large", abs(loss), at_most=1e-6)


def test_total_variation_both_normalisations():
    image = RNG.uniform(size=(1, 6, 7, 3)).astype(np.float32)
    expected = np.abs(np.diff(image, axis=1)).sum() + np.abs(np.diff(image, axis=2)).sum()
    for form, reference in (("sum", expected), ("mean", expected / 42)):
        loss = ops.convert_to_numpy(losses.total_variation_loss(image, form))
        within(
            f"total variation ({form}) against NumPy's, relative", relative_difference(loss, reference), at_most=1e-5
        )


def test_total_loss_is_the_weighted_sum():
    content, style, variation = (ops.convert_to_tensor(value) for value in (2.0, 3.0, 5.0))
    result = ops.convert_to_numpy(losses.total_loss(content, style, variation, 1e4, 1e-2, 7.0))
    assert result == pytest.approx(2.0 * 1e4 + 3.0 * 1e-2 + 5.0 * 7.0)


def test_masked_gram_with_a_white_mask_is_the_plain_one_and_ignores_black_positions():
    features = ops.convert_to_tensor(rng(3).normal(size=(1, 6, 5, 4)).astype(np.float32))
    white = ops.convert_to_numpy(losses.normalized_gram(features, ops.ones((1, 6, 5, 1))))
    plain = ops.convert_to_numpy(losses.normalized_gram(features))
    within("Gram matrix under a white mask against the plain one, tolerance used", tolerance_used(white, plain, 1e-5),
           at_most=1.0)  # fmt: skip
    left = ops.concatenate([ops.ones((1, 6, 2, 1)), ops.zeros((1, 6, 3, 1))], axis=2)
    half = ops.convert_to_numpy(losses.normalized_gram(features, left))
    kept = ops.convert_to_numpy(losses.normalized_gram(features[:, :, :2]))
    within("Gram matrix under a half mask against the half's, tolerance used", tolerance_used(half, kept, 1e-5),
           at_most=1.0)  # fmt: skip


def test_content_loss_over_several_layers_sums_halves_or_averages_their_means():
    layers = [(features(4, 4, 3), features(4, 4, 3)), (features(2, 2, 8), features(2, 2, 8))]
    squared = [losses.squared_error(C, G) for C, G in layers]
    counts = [float(C.size) for C, _ in layers]
    sums = [np.sum((C.astype(np.float64) - G) ** 2) for C, G in layers]
    as_sum = ops.convert_to_numpy(losses.content_loss(squared, counts, "sum"))
    within("content loss over layers (sum), relative", relative_difference(as_sum, 0.5 * sum(sums)), at_most=1e-5)
    as_mean = ops.convert_to_numpy(losses.content_loss(squared, counts, "mean"))
    expected = np.mean([np.mean((C.astype(np.float64) - G) ** 2) for C, G in layers])
    within("content loss over layers (mean), relative", relative_difference(as_mean, expected), at_most=1e-5)


def test_a_weighted_squared_error_counts_only_the_positions_it_weighs():
    C, G = features(4, 4, 3), features(4, 4, 3)
    left = np.zeros((1, 4, 4, 1), np.float32)
    left[:, :, :2] = 1.0
    expected = np.sum((C[:, :, :2].astype(np.float64) - G[:, :, :2]) ** 2)
    error = ops.convert_to_numpy(losses.squared_error(C, G, left))
    within("weighted squared error against NumPy's, relative", relative_difference(error, expected), at_most=1e-5)
