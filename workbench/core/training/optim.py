"""Optimizer, learning-rate schedule and loss for a TrainConfig."""

from __future__ import annotations

from typing import Any

from workbench.core.training.config import TrainConfig

STEP_DROPS = ((0.5, 0.1), (0.75, 0.01))  # (fraction of the run, lr multiplier) for the "step" schedule
PLATEAU_FACTOR = 0.2
PLATEAU_PATIENCE = 3
FITTED_SCHEDULES = ("one_cycle", "warmup_cosine", "triangle")  # their length can be refitted to a time budget


def make_learning_rate(config: TrainConfig, steps_per_epoch: int) -> Any:
    """A float, or a Keras schedule driven by the optimizer's step count (so it resumes exactly)."""
    import keras

    total = max(1, config.epochs * steps_per_epoch)
    if config.lr_schedule in FITTED_SCHEDULES:
        from workbench.core.training.schedules import make_fitted_schedule

        return make_fitted_schedule(config.lr_schedule, config.learning_rate, total)
    if config.lr_schedule == "cosine":
        return keras.optimizers.schedules.CosineDecay(config.learning_rate, decay_steps=total)
    if config.lr_schedule == "step":
        boundaries = [max(1, int(total * f)) for f, _ in STEP_DROPS]
        values = [config.learning_rate] + [config.learning_rate * m for _, m in STEP_DROPS]
        return keras.optimizers.schedules.PiecewiseConstantDecay(boundaries, values)
    return float(config.learning_rate)  # constant, and plateau (reduced by a callback)


EMA_WARMUP = 10.0  # the average's momentum is min(ema, (1 + t) / (EMA_WARMUP + t)) at step t (as tf.train's EMA)

_warm_classes: dict[type, type] = {}


def _with_ema_warmup(cls: type) -> type:
    """``cls`` whose weight-average momentum grows from 0.1 to its target over the first steps.

    Keras' average starts from the initial weights with the full momentum, so in a short run (a few
    hundred steps at 0.99) the average is still mostly the random initial weights; TensorFlow's own
    ExponentialMovingAverage warms up the same way (its ``num_updates``).
    """
    if cls not in _warm_classes:
        class WarmAverage(cls):  # type: ignore[misc, valid-type]
            @property
            def ema_momentum(self) -> Any:
                from keras import ops

                if not hasattr(self, "_iterations"):  # during construction
                    return self._ema_target
                t = ops.cast(self.iterations, "float32")
                return ops.minimum(self._ema_target, (1.0 + t) / (EMA_WARMUP + t))

            @ema_momentum.setter
            def ema_momentum(self, value: Any) -> None:
                self._ema_target = float(value) if value is not None else 0.99

            def get_config(self) -> dict[str, Any]:
                return {**super().get_config(), "ema_momentum": self._ema_target}

        WarmAverage.__name__ = cls.__name__
        _warm_classes[cls] = WarmAverage
    return _warm_classes[cls]


_scaled_classes: dict[tuple[type, float], type] = {}


def _with_shift_rate(cls: type, scale: float) -> type:
    """``cls`` whose batch-norm shifts (variables named ``beta``) take ``scale`` times the step (airbench's
    bias_scaler 64: with the scale fixed at 1, a shift is the only thing a norm learns and it learns slowly).

    Scaling the gradient is scaling the rate for SGD with momentum (Adam would undo it: it is refused there);
    a weight penalty on a shift would be scaled too, and no airnet shift has one."""
    key = (cls, float(scale))
    if key not in _scaled_classes:
        class ShiftRate(cls):  # type: ignore[misc, valid-type]
            def apply(self, grads: Any, trainable_variables: Any = None) -> Any:
                variables = trainable_variables if trainable_variables is not None else self._trainable_variables
                grads = [g * scale if g is not None and v.name == "beta" else g for g, v in zip(grads, variables)]
                return super().apply(grads, trainable_variables)

        ShiftRate.__name__ = cls.__name__  # a saved training config names the plain optimizer
        _scaled_classes[key] = ShiftRate
    return _scaled_classes[key]


def make_optimizer(config: TrainConfig, steps_per_epoch: int) -> Any:
    import keras

    lr = make_learning_rate(config, steps_per_epoch)
    common: dict[str, Any] = {"learning_rate": lr}
    if config.ema > 0:  # Keras keeps the average in the optimizer's variables: checkpoints and resumes carry it
        common.update(use_ema=True, ema_momentum=config.ema)
    def make(cls: type, **kwargs: Any) -> Any:
        cls = _with_ema_warmup(cls) if config.ema > 0 else cls
        if config.bias_lr_scale != 1.0 and config.optimizer == "sgd":
            cls = _with_shift_rate(cls, config.bias_lr_scale)
        return cls(**kwargs, **common)

    if config.optimizer == "adamw":
        return make(keras.optimizers.AdamW, weight_decay=config.weight_decay or 0.004)
    if config.weight_decay > 0:
        common["weight_decay"] = config.weight_decay
    if config.optimizer == "sgd":
        return make(keras.optimizers.SGD, momentum=0.9, nesterov=True)
    if config.optimizer == "rmsprop":
        return make(keras.optimizers.RMSprop)
    return make(keras.optimizers.Adam)


_smoothed_loss_class: Any = None


def _make_smoothed_loss_class() -> Any:
    import keras

    @keras.saving.register_keras_serializable(package="workbench", name="SmoothedSparseCrossentropy")
    class SmoothedSparseCrossentropy(keras.losses.Loss):
        """Cross-entropy on probabilities with label smoothing, taking sparse integer labels.

        Keras 3's sparse cross-entropy has no label smoothing; one-hot encoding inside the loss
        keeps the labels sparse everywhere else, so the honest top-k metrics still apply.
        """

        def __init__(self, num_classes: int, label_smoothing: float = 0.0, name: str = "smoothed_sparse_ce",
                     **kwargs: Any) -> None:
            super().__init__(name=name, **kwargs)
            self.num_classes = int(num_classes)
            self.label_smoothing = float(label_smoothing)

        def call(self, y_true: Any, y_pred: Any) -> Any:
            from keras import ops

            labels = ops.one_hot(ops.reshape(ops.cast(y_true, "int32"), (-1,)), self.num_classes)
            return keras.losses.categorical_crossentropy(
                labels, y_pred, from_logits=False, label_smoothing=self.label_smoothing
            )

        def get_config(self) -> dict[str, Any]:
            return {**super().get_config(), "num_classes": self.num_classes, "label_smoothing": self.label_smoothing}

    return SmoothedSparseCrossentropy


def make_loss(config: TrainConfig, num_classes: int) -> Any:
    """Sparse cross-entropy on probabilities (the models end in softmax), smoothed when asked."""
    import keras

    global _smoothed_loss_class
    if config.label_smoothing > 0:
        if _smoothed_loss_class is None:
            _smoothed_loss_class = _make_smoothed_loss_class()
        return _smoothed_loss_class(num_classes, config.label_smoothing)
    return keras.losses.SparseCategoricalCrossentropy(from_logits=False)


def current_learning_rate(optimizer: Any) -> float:
    """The rate the optimizer applies at its current step, as a float."""
    try:
        return float(optimizer.learning_rate)
    except (TypeError, ValueError):
        return float("nan")


def loss_label(config: TrainConfig) -> str:
    """This run's loss in words for a plot axis: the compiled loss, which training, validation and the
    final test all count (label smoothing and the network's L2 weight penalty included)."""
    from workbench.core.architectures.registry import resolve_options

    words = f"cross-entropy, smoothing {config.label_smoothing:g}" if config.label_smoothing > 0 else "cross-entropy"
    try:
        penalty = float(resolve_options(config.arch, **config.arch_options).get("weight_decay", 0.0))
    except ValueError:
        penalty = 0.0
    return words + (" + L2" if penalty > 0 else "")
