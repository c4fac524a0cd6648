"""The only backend-specific code: how a loss's value and gradient are taken, how a function is
compiled, which device runs it and how much memory it has. Everything else is written in
``keras.ops`` and runs on whichever backend Keras was started with (``KERAS_BACKEND``:
tensorflow, the default, jax or torch)."""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from typing import Any

import keras
import numpy as np

Losses = dict[str, Any]
LossFunction = Callable[..., Losses]
# The library that does the work on each backend, for the report's versions.
_LIBRARIES = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}


def name() -> str:
    """The Keras backend in use: ``"tensorflow"``, ``"jax"`` or ``"torch"``."""
    return keras.backend.backend()


def library_version() -> str:
    return importlib.import_module(_LIBRARIES[name()]).__version__


@functools.lru_cache(maxsize=1)
def device() -> str:
    """Where the tensors live, in words: ``"CPU"`` or ``"GPU (NVIDIA H200)"``."""
    backend = name()
    if backend == "tensorflow":
        import tensorflow as tf

        gpus = tf.config.list_logical_devices("GPU")
        if not gpus:
            return "CPU"
        details = tf.config.experimental.get_device_details(tf.config.list_physical_devices("GPU")[0])
        return f"GPU ({details.get('device_name', gpus[0].name)})"
    if backend == "jax":
        import jax

        first = jax.devices()[0]
        return "CPU" if first.platform == "cpu" else f"{first.platform.upper()} ({first.device_kind})"
    if backend == "torch":
        import torch

        return f"GPU ({torch.cuda.get_device_name()})" if torch.cuda.is_available() else "CPU"
    return backend


def peak_device_memory_mb() -> float | None:
    """The most memory the GPU has held for this process so far, in MB; None on the CPU."""
    if device() == "CPU":
        return None
    backend = name()
    if backend == "tensorflow":
        import tensorflow as tf

        return tf.config.experimental.get_memory_info("GPU:0")["peak"] / 2**20
    if backend == "jax":
        import jax

        return jax.devices()[0].memory_stats().get("peak_bytes_in_use", 0) / 2**20
    import torch

    return torch.cuda.max_memory_allocated() / 2**20


def device_memory_mb() -> tuple[float, float] | None:
    """The free and the total memory of the GPU the tensors live on, in MB, as the backend's
    allocator can use it (JAX's and TensorFlow's take their pool at the start); None on the CPU,
    where the host's memory is what a run uses."""
    if device() == "CPU":
        return None
    backend = name()
    if backend == "tensorflow":
        import tensorflow as tf
        from tensorflow.python.client import device_lib  # the only place TensorFlow tells its GPU's size

        total = next(each.memory_limit for each in device_lib.list_local_devices() if each.device_type == "GPU")
        used = tf.config.experimental.get_memory_info("GPU:0")["current"]
        return (total - used) / 2**20, total / 2**20
    if backend == "jax":
        import jax

        stats = jax.devices()[0].memory_stats()
        return (stats["bytes_limit"] - stats["bytes_in_use"]) / 2**20, stats["bytes_limit"] / 2**20
    import torch

    free, total = torch.cuda.mem_get_info()
    cached = torch.cuda.memory_reserved() - torch.cuda.memory_allocated()  # PyTorch's own, free to reuse
    return (free + cached) / 2**20, total / 2**20


def free_device_memory_mb() -> float | None:
    """The GPU's free memory in MB (:func:`device_memory_mb`), or None on the CPU."""
    memory = device_memory_mb()
    return None if memory is None else memory[0]


def limit_threads(threads: int) -> None:
    """Use at most ``threads`` CPU threads for the tensor work (a batch worker given that many
    CPUs by Ray); otherwise each backend takes every core of the machine."""
    backend = name()
    if backend == "tensorflow":
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    elif backend == "torch":
        import torch

        torch.set_num_threads(threads)
    # JAX sizes its CPU thread pool when it starts, from the CPUs the process may use, which Ray
    # has already limited (its workers run with OMP_NUM_THREADS and their CPU share).


def value_and_grad(function: LossFunction) -> Callable[..., tuple[Losses, Any]]:
    """``(x, *args) -> (function(x, *args), d function(x, *args)["total"] / d x)``: a GradientTape,
    ``jax.value_and_grad`` or ``torch.autograd``. ``x`` is an image, or any nest of tensors (the
    gradient has its structure); ``args`` are held constant. Not compiled: :func:`compile`
    compiles it, or the larger function it is part of."""
    backend = name()
    if backend == "tensorflow":
        import tensorflow as tf

        def evaluate(x, *args):
            with tf.GradientTape() as tape:
                tape.watch(x)
                losses = function(x, *args)
            return losses, tape.gradient(losses["total"], x, unconnected_gradients=tf.UnconnectedGradients.ZERO)

        return evaluate
    if backend == "jax":
        import jax

        def total(x, *args):
            losses = function(x, *args)
            return losses["total"], losses

        gradient_of = jax.value_and_grad(total, has_aux=True)

        def evaluate(x, *args):
            (_, losses), gradient = gradient_of(x, *args)
            return losses, gradient

        return evaluate
    if backend == "torch":
        import torch
        from keras import tree

        def evaluate(x, *args):
            x = tree.map_structure(lambda tensor: tensor.detach().requires_grad_(True), x)
            losses = function(x, *args)
            gradient = torch.autograd.grad(losses["total"], tree.flatten(x), allow_unused=True, materialize_grads=True)
            return {key: value.detach() for key, value in losses.items()}, tree.pack_sequence_as(x, list(gradient))

        return evaluate
    raise NotImplementedError(f"nst does not support the Keras backend {backend!r}")


def keeps_activations() -> bool:
    """Whether :func:`pullback` keeps a forward pass's activations for its backward pass: JAX and
    PyTorch do; TensorFlow's tape over a compiled function runs the forward pass again."""
    return name() != "tensorflow"


def pullback(function: Callable) -> Callable[..., tuple[Any, Callable[[Any], Any]]] | None:
    """``(x, *args) -> (function(x, *args), pull)``, where ``pull(cotangents)`` is the gradient
    with respect to ``x`` of the outputs weighted by ``cotangents`` (a nest like the outputs):
    the forward pass's activations are kept until ``pull`` is called (or dropped), so the
    backward pass does not run the forward again. ``function`` is compiled already (its
    gradient is then compiled too: JAX's partial evaluation of a jit).

    None on TensorFlow: the gradient of a compiled tf.function held on a tape runs its forward
    pass again and keeps nothing (a 608 px crop on one CPU thread: the second pass 7.26 s from
    the tape against 6.13 s compiled with its forward pass; benchmarks/kept_activations.py)."""
    from keras import tree

    if not keeps_activations():
        return None
    backend = name()
    if backend == "jax":
        import jax

        def forward(x, *args):
            outputs, pull = jax.vjp(lambda x: function(x, *args), x)
            return outputs, lambda cotangents: pull(cotangents)[0]

        return forward
    if backend == "torch":
        import torch

        def forward(x, *args):
            x = x.detach().requires_grad_(True)
            outputs = function(x, *args)
            flat = tree.flatten(outputs)

            def pull(cotangents):
                return torch.autograd.grad(flat, x, grad_outputs=tree.flatten(cotangents))[0]

            return tree.map_structure(lambda tensor: tensor.detach(), outputs), pull

        return forward
    raise NotImplementedError(f"nst does not support the Keras backend {backend!r}")


def stateless() -> bool:
    """Whether a compiled function must leave variables alone and return their new values
    instead (JAX's rule); TensorFlow's tf.function and PyTorch change them in place."""
    return name() == "jax"


def compile(function: Callable, jit_compile: bool = True) -> Callable:
    """``function``, a pure function of tensors, compiled where the backend compiles it. PyTorch
    runs it as it is: torch.compile made an L-BFGS step at 128 px 10% faster (0.183 s against
    0.204 s) after 22 to 88 s of compiling, which pays only after hundreds of steps.

    Without AutoGraph: its control flow is Keras's ops already, and AutoGraph reads a function's
    source file when it traces it, so a file changed during an hour-long print (an upgrade, an
    edited checkout) had a later size trace another function of that file and fail."""
    backend = name()
    if backend == "tensorflow":
        import tensorflow as tf

        return tf.function(function, jit_compile=jit_compile, autograph=False)
    if backend == "jax":
        import jax

        return jax.jit(function)
    return function


def mutable_zeros(shape: tuple[int, ...]) -> Any:
    """A float32 buffer of zeros that :func:`write` changes in place, op by op: TensorFlow's
    variable, PyTorch's tensor. JAX's arrays never change: there it is an array, and each write
    outside compiled code makes a new one."""
    if name() == "tensorflow":
        import tensorflow as tf

        return tf.Variable(tf.zeros(shape), trainable=False)
    return keras.ops.zeros(shape, "float32")


def write(buffer: Any, index: Any, value: Any) -> Any:
    """``buffer`` with ``value`` at ``index`` of its first axis, returned. A buffer from
    :func:`mutable_zeros` is written in place (TensorFlow, PyTorch), with no copy of the rest of it
    alive beside it; any other is updated into a new tensor (in compiled code XLA's dynamic
    update slice, in the compiled function's own buffers)."""
    backend = name()
    if backend == "tensorflow":
        import tensorflow as tf

        if isinstance(buffer, tf.Variable):
            buffer[index].assign(value)
            return buffer
    elif backend == "torch":
        import torch

        with torch.no_grad():
            buffer[index] = value
        return buffer
    start = [index] + [0] * (len(buffer.shape) - 1)
    return keras.ops.slice_update(buffer, start, keras.ops.expand_dims(value, 0))


def to_numpy(tensor: Any) -> np.ndarray:
    """A tensor brought to the host. Under JAX an explicit transfer (``jax.device_get``), so that
    ``jax.transfer_guard`` can tell it from an accidental one."""
    if isinstance(tensor, keras.Variable):  # its value as a plain tensor (TensorFlow's would be a tf.Variable)
        tensor = keras.ops.copy(tensor)
    if name() == "jax":
        import jax

        return np.asarray(jax.device_get(tensor))
    if name() == "torch":  # Keras's np.array(tensor) is deprecated by NumPy 2 for PyTorch's tensors
        return keras.ops.convert_to_tensor(tensor).detach().cpu().numpy()
    return keras.ops.convert_to_numpy(tensor)


def floats(values: dict[str, Any]) -> dict[str, float]:
    """Scalar tensors as Python floats, fetched from the device together (one transfer)."""
    numbers = to_numpy(keras.ops.stack([keras.ops.cast(value, "float32") for value in values.values()]))
    return {key: float(number) for key, number in zip(values, numbers, strict=True)}
