"""Caps on what reading a model file from outside may cost, so a crafted file ends in one sentence."""

from __future__ import annotations

from workbench.core.images.fit import MAX_MODEL_INPUT_PIXELS

# A Keras architecture JSON is kilobytes to a few MB (ResNet-152: ~0.3 MB); 32 MiB leaves room for
# giant graphs while keeping json.loads (about 10x the text in memory) far below 1 GB.
MAX_CONFIG_BYTES = 32 * 1024 * 1024
# Our metadata is class names plus a few settings; 4 MiB holds 100 000 long names.
MAX_METADATA_BYTES = 4 * 1024 * 1024
# More classes than any real classifier (ImageNet-21k has 21 841); a crafted list must not flood a table.
MAX_CLASS_NAMES = 100_000
# Declared input height x width: the same cap images are fitted to (one 50 MB float32 image), so a
# file that loads can always be fed.
MAX_INPUT_PIXELS = MAX_MODEL_INPUT_PIXELS
# Values fed to the model in one prediction batch (32 MB of float32), so big inputs get small batches.
MAX_BATCH_INPUT_VALUES = 8 * 1024 * 1024
# Stored weights compress little (float noise); a file whose weights unpack to more than this many
# times its own size (plus slack for tiny files) is a compression bomb, not a model.
MAX_WEIGHT_EXPANSION = 16
WEIGHT_SLACK_BYTES = 64 * 1024 * 1024
