"""Training with ``model.fit``: the trainer model, callbacks and ``train()``."""

from imse_keras.training.callbacks import GeneratorCheckpoint, StopAfterEpoch, Validation
from imse_keras.training.run import TrainOptions, package_versions, train
from imse_keras.training.trainer import IMSETrainer, make_optimizer, pesq_targets

__all__ = [
    "GeneratorCheckpoint",
    "IMSETrainer",
    "StopAfterEpoch",
    "TrainOptions",
    "Validation",
    "make_optimizer",
    "package_versions",
    "pesq_targets",
    "train",
]
