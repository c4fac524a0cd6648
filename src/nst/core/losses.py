r"""The losses of neural style transfer, as pure functions over tensors.

Notation (the spec's): F^l is the activation of layer l, N_l its number of channels
(filters), M_l its number of positions (height x width). G^l = F^l (F^l)^T is its Gram matrix.

Two normalisations, one switch (``normalization``):

* ``"sum"``, the spec's formulas as written::

      L_content = 1/2 sum_ij (F^C_ij - F^G_ij)^2
      L_style   = sum_l w_l / (4 N_l^2 M_l^2) sum_ij (G^S_ij - G^G_ij)^2

* ``"mean"``, the TensorFlow tutorial's (whose alpha = 1e4, beta = 1e-2 the spec quotes)::

      L_content = 1/(N M) sum_ij (F^C_ij - F^G_ij)^2                 (mean squared error)
      L_style   = 1/L sum_l w_l / (N_l^2 M_l^2) sum_ij (G^S_ij - G^G_ij)^2

  that is, the mean squared error of Gram matrices divided by M_l, averaged over the L layers.

Exact relation, for the same image and layers::

      L_content(mean) = 2 / (N M) * L_content(sum)      (N, M of the content layer)
      L_style(mean)   = 4 / L     * L_style(sum)

* ``"photo"``, each term a fraction of the photo's own (nst's default since 0.3)::

      L_content = 1/|C| sum_c L_content,c(mean) / mean_ij (F^C_ij)^2       (c: the content layers)
      L_style   = 1/L sum_l w_l E_l(mean) / E_l(mean)(photo)

  the content loss relative to the photo's mean squared activation e_l (the loss of an image
  whose activations were all zero), each style layer relative to the photo's own distance from the painting at that
  layer. Every layer counts, whatever its activations' scale (in the plain VGG19
  ``block4_conv1`` is about 99% of the "mean" style loss), and the balance of content and style
  is the same for every photo and painting: the style loss of the photo is the mean of the w_l.

So with the sums the content term grows with the number of pixels M while the style term
does not: the same alpha and beta stylize less at a higher resolution. With the means both
terms are averages, and their balance stays put when only the resolution changes.

Style targets are Gram matrices divided by their own M (``gram / positions``): for a style
image of the same size as the generated one this is exactly the formula above, and it keeps
the formula meaningful when the style image has another size (a raw Gram grows with M).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from keras import ops

Tensor = Any  # a tensor of the Keras backend in use (TensorFlow, JAX or PyTorch)


def gram_matrix(features: Tensor) -> Tensor:
    r"""G_cd = sum_ij F_ijc F_ijd, for features of shape (batch, height, width, channels).

    Returns shape (batch, channels, channels)."""
    return ops.einsum("bijc,bijd->bcd", features, features)


def positions(features: Tensor) -> float:
    """M: the number of spatial positions (height x width) of a feature map."""
    return float(features.shape[1] * features.shape[2])


def normalized_gram(features: Tensor, mask: Tensor | None = None) -> Tensor:
    r"""G / M: the Gram matrix per position, the form style targets are kept in.

    With a mask m of shape (batch, height, width, 1) at the layer's size, the masked Gram
    matrix of Gatys et al. (2017): G[m] = (F o m)(F o m)^T / sum_ij m_ij^2, which is G / M
    when m is 1 everywhere."""
    if mask is None:
        return gram_matrix(features) / positions(features)
    return gram_matrix(features * mask) / ops.maximum(ops.sum(ops.square(mask)), 1e-6)


def squared_error(target: Tensor, features: Tensor, weights: Tensor | None = None) -> Tensor:
    r"""S = sum_ij m_ij (F^C_ij - F^G_ij)^2: a content layer's sum of squared differences, its
    positions weighted by ``weights`` (None: 1 each). A sum can be gathered in parts (tiles)."""
    squared = ops.square(target - features)
    return ops.sum(squared if weights is None else squared * weights)


def content_loss(
    squared: Sequence[Tensor],
    counts: Sequence[float],
    normalization: str = "mean",
    energies: Sequence[float | Tensor] | None = None,
) -> Tensor:
    r"""Content loss over the content layers, from each layer's :func:`squared_error` S_l and its
    number of values N_l M_l (``counts``).

    sum:   L_content = sum_l 1/2 S_l                    (the spec's 1/2 sum_ij (F^C_ij - F^G_ij)^2)
    mean:  L_content = 1/L sum_l S_l / (N_l M_l)        (mean squared error, averaged over the L layers)
    photo: L_content = 1/L sum_l S_l / (N_l M_l e_l)    (e_l = mean_ij (F^C_ij)^2, ``energies``)
    """
    if normalization == "sum":
        return sum(0.5 * value for value in squared)
    energies = energies if normalization == "photo" and energies is not None else [1.0] * len(counts)
    terms = zip(squared, counts, energies, strict=True)
    return sum(value / (count * energy) for value, count, energy in terms) / float(len(counts))


def style_layer_loss(target_gram: Tensor, generated_gram: Tensor, normalization: str = "mean") -> Tensor:
    r"""Style loss E_l of one layer, from the target's and the generated image's per-position Gram
    matrices G^S / M_l and G^G / M_l (N_l x N_l, :func:`normalized_gram`; the generated one may be
    gathered in parts, tiles, first).

    sum:  E_l = 1/(4 N_l^2 M_l^2) sum_ij (G^S_ij - G^G_ij)^2 = 1/(4 N_l^2) sum_ij (G^S_ij/M_l - G^G_ij/M_l)^2
    mean: E_l = 1/(N_l^2 M_l^2) sum_ij (G^S_ij - G^G_ij)^2    = 4 x the sum form
    """
    difference = ops.sum(ops.square(target_gram - generated_gram))
    channels = float(generated_gram.shape[-1])
    scale = 4.0 if normalization == "sum" else 1.0
    return difference / (scale * channels * channels)


def style_loss(
    target_grams: Sequence[Tensor],
    generated_grams: Sequence[Tensor],
    layer_weights: Sequence[float | Tensor],
    normalization: str = "mean",
) -> Tensor:
    r"""Style loss over the style layers, from the per-position Gram matrices of the target and
    of the generated image at each layer (:func:`style_layer_loss`).

    sum:  L_style = sum_l w_l E_l
    mean: L_style = 1/L sum_l w_l E_l   (E_l in its mean form)
    """
    layers = zip(target_grams, generated_grams, layer_weights, strict=True)
    total = sum(weight * style_layer_loss(target, generated, normalization) for target, generated, weight in layers)
    if normalization == "sum":
        return total
    return total / float(len(target_grams))


def total_variation_loss(image: Tensor, normalization: str = "mean", wrap: bool = False) -> Tensor:
    r"""Total variation: sum of absolute differences between neighbouring pixels.

    sum:  TV = sum_ij |x_i+1,j - x_ij| + |x_i,j+1 - x_ij|   (as ``tf.image.total_variation``)
    mean: TV / (H W), so that its weight does not depend on the resolution.

    With ``wrap`` (a tileable picture) the last row's neighbour is the first row, and the last
    column's the first column: indices i + 1 and j + 1 are taken modulo H and W.
    """
    image = ops.convert_to_tensor(image)
    if wrap:
        rows, columns = ops.roll(image, -1, axis=1), ops.roll(image, -1, axis=2)
        variation = ops.sum(ops.abs(rows - image)) + ops.sum(ops.abs(columns - image))
    else:
        variation = ops.sum(ops.abs(image[:, 1:] - image[:, :-1])) + ops.sum(
            ops.abs(image[:, :, 1:] - image[:, :, :-1])
        )
    if normalization == "sum":
        return variation
    return variation / float(image.shape[1] * image.shape[2])


def total_loss(
    content: Tensor,
    style: Tensor,
    variation: Tensor,
    content_weight: float,
    style_weight: float,
    tv_weight: float = 0.0,
) -> Tensor:
    r"""L_total = alpha L_content + beta L_style (+ tv_weight TV, an optional smoothness term)."""
    return content_weight * content + style_weight * style + tv_weight * variation


def temporal_loss(image: Tensor, warped_previous: Tensor, reliable: Tensor) -> Tensor:
    r"""Temporal loss of a video frame (Ruder, Dosovitskiy and Brox 2016, eq. 4): how far the
    frame is from the previous stylized frame warped to it, where the optical flow is reliable.

        L_temporal = 1/D sum_k c_k (x_k - w_k)^2

    x the frame, w the warped previous frame, c the reliability mask (1 where the flow is
    consistent, 0 at occlusions and motion boundaries; shape (batch, H, W, 1)), D = H W C:
    a mean, so that its weight does not depend on the resolution."""
    return ops.mean(reliable * ops.square(image - warped_previous))
